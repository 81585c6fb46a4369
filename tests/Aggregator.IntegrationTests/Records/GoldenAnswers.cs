using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Aggregator.IntegrationTests.Records;

/// <summary>
/// A patient's answers on every read path, captured in order and made comparable from one run to the next: ids become
/// <c>&lt;id:N&gt;</c> by first appearance, instants of this run become <c>&lt;now&gt;</c>, cursors <c>&lt;cursor&gt;</c>.
/// Stored as gzip'd NDJSON (one answer per line) beside the tests; <c>AGGREGATOR_GOLDEN=write</c> rewrites them.
/// </summary>
public sealed partial class GoldenAnswers(HttpClient client, DateTimeOffset runStarted)
{
    private readonly List<JsonObject> _answers = [];
    private readonly Dictionary<string, string> _ids = new(StringComparer.OrdinalIgnoreCase);

    public static bool Writing => Environment.GetEnvironmentVariable("AGGREGATOR_GOLDEN") == "write";

    public static string Folder => Path.Combine(Infrastructure.RepositoryPaths.Root, "tests", "Aggregator.IntegrationTests", "Records", "Golden");

    /// <summary>GETs a JSON answer, records it, and returns it as served.</summary>
    public async Task<JsonNode?> JsonAsync(string path, string? accept = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (accept is not null)
        {
            request.Headers.Accept.ParseAdd(accept);
        }

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var body = text.Length == 0 ? null : JsonNode.Parse(text);
        Record(path, response.StatusCode, response.Content.Headers.ContentType?.MediaType, body?.DeepClone());
        return body;
    }

    /// <summary>GETs an NDJSON answer and records its lines.</summary>
    public async Task NdjsonAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("application/fhir+ndjson");
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var lines = new JsonArray([.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l))]);
        Record(path, response.StatusCode, response.Content.Headers.ContentType?.MediaType, lines);
    }

    /// <summary>GETs bytes (a document's content) and records their type, length and digest.</summary>
    public async Task BytesAsync(string path)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);
        var bytes = await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
        Record(path, response.StatusCode, response.Content.Headers.ContentType?.MediaType, new JsonObject
        {
            ["length"] = bytes.Length,
            ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(bytes)),
        });
    }

    /// <summary>Pages through a listing (<c>nextCursor</c>) from <paramref name="path"/>; returns every item.</summary>
    public async Task<List<JsonObject>> PagesAsync(string path, string itemsProperty = "items")
    {
        var items = new List<JsonObject>();
        string? cursor = null;
        for (var page = 0; page < 200; page++)
        {
            var body = await JsonAsync(cursor is null ? path : $"{path}&cursor={Uri.EscapeDataString(cursor)}");
            items.AddRange(body?[itemsProperty]?.AsArray().OfType<JsonObject>() ?? []);
            cursor = body?["nextCursor"]?.GetValue<string>();
            if (cursor is null || body?["hasMore"]?.GetValue<bool>() == false)
            {
                return items;
            }
        }

        throw new InvalidOperationException($"{path} did not end in 200 pages.");
    }

    private void Record(string path, HttpStatusCode status, string? mediaType, JsonNode? body)
    {
        var answer = new JsonObject
        {
            ["path"] = Normalize(JsonValue.Create(path)),
            ["status"] = (int)status,
            ["type"] = mediaType,
            ["body"] = Normalize(body),
        };
        _answers.Add(answer);
    }

    /// <summary>Scrubs the strings of <paramref name="node"/> in place (leaves are replaced); returns the node, or the scrubbed leaf.</summary>
    private JsonNode? Normalize(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, child) in obj.ToList())
                {
                    if (name == "nextCursor" && child is JsonValue)
                    {
                        obj[name] = "<cursor>";
                    }
                    else if (child is JsonValue leaf && leaf.TryGetValue<string>(out var text))
                    {
                        obj[name] = Scrub(text);
                    }
                    else
                    {
                        Normalize(child);
                    }
                }

                return obj;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is JsonValue leaf && leaf.TryGetValue<string>(out var text))
                    {
                        array[i] = Scrub(text);
                    }
                    else
                    {
                        Normalize(array[i]);
                    }
                }

                return array;
            case JsonValue value when value.TryGetValue<string>(out var text):
                return JsonValue.Create(Scrub(text));
            default:
                return node;
        }
    }

    private string Scrub(string text)
    {
        text = CursorPattern().Replace(text, "cursor=<cursor>");
        text = GuidPattern().Replace(text, m =>
        {
            if (!_ids.TryGetValue(m.Value, out var placeholder))
            {
                placeholder = $"<id:{_ids.Count + 1}>";
                _ids[m.Value] = placeholder;
            }

            return placeholder;
        });
        return InstantPattern().Replace(text, m =>
            DateTimeOffset.TryParse(m.Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) && at >= runStarted.AddDays(-2)
                ? "<now>" : m.Value);
    }

    /// <summary>Compares with (or, when writing, stores as) the golden file <paramref name="name"/>.</summary>
    public void Verify(string name)
    {
        var file = Path.Combine(Folder, name + ".ndjson.gz");
        var actual = _answers.Select(a => a.ToJsonString()).ToList();
        if (Writing)
        {
            Directory.CreateDirectory(Folder);
            using var output = new GZipStream(File.Create(file), CompressionLevel.SmallestSize);
            output.Write(Encoding.UTF8.GetBytes(string.Join('\n', actual) + "\n"));
            return;
        }

        Assert.True(File.Exists(file), $"No golden file {name}: capture it with AGGREGATOR_GOLDEN=write.");
        List<string> expected;
        using (var input = new GZipStream(File.OpenRead(file), CompressionMode.Decompress))
        using (var reader = new StreamReader(input, Encoding.UTF8))
        {
            expected = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        }

        var saved = Path.Combine(Path.GetTempPath(), $"golden-{name}-actual.ndjson");
        for (var i = 0; i < Math.Max(expected.Count, actual.Count); i++)
        {
            if (i >= expected.Count || i >= actual.Count || expected[i] != actual[i])
            {
                File.WriteAllText(saved, string.Join('\n', actual) + "\n");
                var want = i < expected.Count ? JsonNode.Parse(expected[i]) : null;
                var got = i < actual.Count ? JsonNode.Parse(actual[i]) : null;
                Assert.Fail($"{name}: answer {i + 1} differs ({want?["path"] ?? got?["path"]}) at {FirstDifference(want, got, "$")}. The whole answer set is in {saved}.");
            }
        }
    }

    private static string FirstDifference(JsonNode? want, JsonNode? got, string at)
    {
        switch (want, got)
        {
            case (JsonObject a, JsonObject b):
                foreach (var name in a.Select(p => p.Key).Union(b.Select(p => p.Key)))
                {
                    if (!JsonNode.DeepEquals(a[name], b[name]))
                    {
                        return a.ContainsKey(name) && b.ContainsKey(name) ? FirstDifference(a[name], b[name], $"{at}.{name}") : $"{at}.{name} (only in {(a.ContainsKey(name) ? "golden" : "actual")})";
                    }
                }

                return at + " (property order)";
            case (JsonArray a, JsonArray b):
                for (var i = 0; i < Math.Min(a.Count, b.Count); i++)
                {
                    if (!JsonNode.DeepEquals(a[i], b[i]))
                    {
                        return FirstDifference(a[i], b[i], $"{at}[{i}]");
                    }
                }

                return $"{at} (length {a.Count} golden, {b.Count} actual)";
            default:
                return $"{at}: golden {Short(want)}, actual {Short(got)}";
        }
    }

    private static string Short(JsonNode? node)
    {
        var text = node?.ToJsonString() ?? "null";
        return text.Length > 200 ? text[..200] + "…" : text;
    }

    [GeneratedRegex("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", RegexOptions.CultureInvariant)]
    private static partial Regex GuidPattern();

    [GeneratedRegex(@"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})", RegexOptions.CultureInvariant)]
    private static partial Regex InstantPattern();

    [GeneratedRegex(@"cursor=[^&]+", RegexOptions.CultureInvariant)]
    private static partial Regex CursorPattern();
}
