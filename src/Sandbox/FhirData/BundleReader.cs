using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Aggregator.Sandbox.FhirData;

/// <summary>A bundle file read into standalone resources with server-style ids and references.</summary>
public sealed record LoadedBundle(string Source, IReadOnlyList<JsonObject> Resources)
{
    /// <summary>The one Patient of the file, which owns resources that name no patient themselves.</summary>
    public string? SinglePatientId
    {
        get
        {
            var patients = Resources.Where(r => ResourceJson.TypeOf(r) == "Patient").Take(2).ToList();
            return patients.Count == 1 ? ResourceJson.IdOf(patients[0]) : null;
        }
    }
}

/// <summary>
/// Reads transaction, collection or searchset Bundles (or a single resource) the way a server would store
/// them: <c>urn:uuid:</c> references resolved to <c>Type/id</c>, id-less resources given stable ids, and
/// <c>meta.lastUpdated</c> set where the file has none.
/// </summary>
public static partial class BundleReader
{
    /// <summary>The instant given to resources that carry no date at all (e.g. a directory of Organizations).</summary>
    public static readonly DateTimeOffset UndatedLastUpdated = new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);

    // Clinical dates, most telling first: the moment a record was made or the event happened.
    private static readonly string[][] DatePaths =
    [
        ["issued"], ["recorded"], ["effectiveDateTime"], ["effectiveInstant"], ["effectivePeriod", "end"], ["effectivePeriod", "start"],
        ["occurrenceDateTime"], ["performedDateTime"], ["performedPeriod", "end"], ["performedPeriod", "start"],
        ["authoredOn"], ["dateWritten"], ["recordedDate"], ["dateRecorded"], ["assertedDate"], ["dateAsserted"],
        ["onsetDateTime"], ["period", "end"], ["period", "start"], ["billablePeriod", "end"], ["billablePeriod", "start"],
        ["whenHandedOver"], ["whenPrepared"], ["created"], ["started"], ["date"], ["indexed"],
    ];

    [GeneratedRegex(@"^[A-Za-z0-9\-\.]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();

    public static LoadedBundle Read(string path)
    {
        var source = Path.GetFileNameWithoutExtension(path);
        var root = JsonNode.Parse(File.ReadAllBytes(path)) as JsonObject
            ?? throw new InvalidDataException($"{source}: not a JSON object.");
        return Read(source, root);
    }

    public static LoadedBundle Read(string source, JsonObject root)
    {
        if (ResourceJson.TypeOf(root) != "Bundle")
        {
            EnsureId(root, source, 0, entry: null);
            var undated = DeriveLastUpdated(root);
            StampLastUpdated(root, undated ?? UndatedLastUpdated);
            return new LoadedBundle(source, [root]);
        }

        var resources = new List<JsonObject>();
        var referenceByFullUrl = new Dictionary<string, string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var entry in (root["entry"] as JsonArray ?? []).OfType<JsonObject>())
        {
            index++;
            if (entry["resource"] is not JsonObject resource || ResourceJson.TypeOf(resource) is null)
            {
                continue;
            }

            // Detach the resource from the bundle so it can stand alone.
            entry.Remove("resource");
            EnsureId(resource, source, index, entry);
            if (ResourceJson.StringOf(entry["fullUrl"]) is { Length: > 0 } fullUrl)
            {
                referenceByFullUrl[fullUrl] = $"{ResourceJson.TypeOf(resource)}/{ResourceJson.IdOf(resource)}";
            }

            resources.Add(resource);
        }

        foreach (var resource in resources)
        {
            ResourceJson.RewriteReferences(resource, reference =>
                referenceByFullUrl.TryGetValue(reference, out var resolved) ? resolved : null);
        }

        // Undated resources (the Patient, an Organization) take the file's latest date, so they stay stable.
        var dated = resources.Select(r => (Resource: r, LastUpdated: DeriveLastUpdated(r))).ToList();
        var fileLatest = dated.Where(d => d.LastUpdated is not null).Select(d => d.LastUpdated!.Value)
            .DefaultIfEmpty(UndatedLastUpdated).Max();
        foreach (var (resource, lastUpdated) in dated)
        {
            StampLastUpdated(resource, lastUpdated ?? fileLatest);
        }

        return new LoadedBundle(source, resources);
    }

    public static bool IsValidId(string? id) => id is not null && IdPattern().IsMatch(id);

    private static void EnsureId(JsonObject resource, string source, int index, JsonObject? entry)
    {
        if (IsValidId(ResourceJson.IdOf(resource)))
        {
            return;
        }

        var type = ResourceJson.TypeOf(resource)!;
        var id = IdFromUrl(ResourceJson.StringOf(entry?["request"]?["url"]), type)
            ?? IdFromUrl(ResourceJson.StringOf(entry?["fullUrl"]), type)
            ?? StableId(source, index);
        resource["id"] = id;
    }

    /// <summary>The id a <c>urn:uuid:</c>, <c>Type/id</c> or absolute URL names, if it is a valid FHIR id.</summary>
    private static string? IdFromUrl(string? url, string type)
    {
        if (string.IsNullOrEmpty(url) || url.Contains('?', StringComparison.Ordinal))
        {
            return null;
        }

        string? candidate = null;
        if (url.StartsWith("urn:uuid:", StringComparison.OrdinalIgnoreCase))
        {
            candidate = url["urn:uuid:".Length..];
        }
        else
        {
            var marker = $"{type}/";
            var at = url.LastIndexOf(marker, StringComparison.Ordinal);
            if (at >= 0 && (at == 0 || url[at - 1] == '/'))
            {
                candidate = url[(at + marker.Length)..].Split('/')[0];
            }
        }

        return IsValidId(candidate) ? candidate : null;
    }

    private static string StableId(string source, int index) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{source}#{index}")))[..32];

    private static DateTimeOffset? DeriveLastUpdated(JsonObject resource)
    {
        if (FhirDateTime.TryParseRange(ResourceJson.StringOf(resource["meta"]?["lastUpdated"]), out var stated, out _))
        {
            return stated;
        }

        foreach (var path in DatePaths)
        {
            JsonNode? node = resource;
            foreach (var step in path)
            {
                node = (node as JsonObject)?[step];
            }

            if (FhirDateTime.TryParseRange(ResourceJson.StringOf(node), out var start, out _))
            {
                return start;
            }
        }

        return null;
    }

    private static void StampLastUpdated(JsonObject resource, DateTimeOffset lastUpdated)
    {
        if (resource["meta"] is not JsonObject meta)
        {
            meta = [];
            resource["meta"] = meta;
        }

        if (!FhirDateTime.TryParseRange(ResourceJson.StringOf(meta["lastUpdated"]), out _, out _))
        {
            meta["lastUpdated"] = FhirDateTime.FormatInstant(lastUpdated);
        }
    }
}
