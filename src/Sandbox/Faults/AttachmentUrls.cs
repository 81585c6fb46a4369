using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aggregator.Sandbox.Faults;

/// <summary>
/// Rewrites the attachment urls of a served resource the way the <c>relative-links</c> and <c>document-paths</c> faults
/// ask: <c>Binary/{id}</c> becomes <c>/Binary/{id}</c>, or <c>{base}/documents/{id}</c>. Other resources pass untouched.
/// </summary>
public static class AttachmentUrls
{
    public static byte[] Rewrite(byte[] json, PageQuirks quirks, string baseUrl)
    {
        if ((quirks & (PageQuirks.RelativeLinks | PageQuirks.DocumentPaths)) == 0 || json.AsSpan().IndexOf("\"Binary/"u8) < 0)
        {
            return json;
        }

        var resource = JsonNode.Parse(json);
        var changed = false;
        foreach (var attachment in Attachments(resource))
        {
            if (attachment["url"] is JsonValue value && value.TryGetValue(out string? url) && url.StartsWith("Binary/", StringComparison.Ordinal))
            {
                var id = url["Binary/".Length..];
                attachment["url"] = quirks.HasFlag(PageQuirks.DocumentPaths) ? $"{baseUrl}/documents/{id}" : "/" + url;
                changed = true;
            }
        }

        return changed ? JsonSerializer.SerializeToUtf8Bytes(resource) : json;
    }

    /// <summary>DocumentReference <c>content[].attachment</c> and DiagnosticReport <c>presentedForm[]</c>.</summary>
    private static IEnumerable<JsonObject> Attachments(JsonNode? resource)
    {
        if (resource?["content"] is JsonArray content)
        {
            foreach (var attachment in content.Select(c => c?["attachment"]).OfType<JsonObject>())
            {
                yield return attachment;
            }
        }

        if (resource?["presentedForm"] is JsonArray forms)
        {
            foreach (var form in forms.OfType<JsonObject>())
            {
                yield return form;
            }
        }
    }
}
