using System.Text.Json;

namespace Aggregator.Infrastructure.Sync;

/// <summary>One entry of a searchset page: the resource's raw JSON as served, and why it is unusable if it is.</summary>
public sealed record PageEntry(
    string? ResourceType,
    string? ResourceId,
    string RawJson,
    string? Problem,
    IReadOnlyList<string> References,
    IReadOnlyList<string> AttachmentUrls,
    string? VersionId,
    DateTimeOffset? LastUpdated);

/// <summary>A searchset Bundle read with System.Text.Json (no model objects): entries, the next link, the server's clock.</summary>
public sealed record SearchPage(IReadOnlyList<PageEntry> Entries, string? NextLink, DateTimeOffset? LastUpdated)
{
    public static SearchPage Parse(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("resourceType", out var type) || type.GetString() != "Bundle")
        {
            throw new JsonException("The search answer is not a Bundle.");
        }

        var entries = new List<PageEntry>();
        if (root.TryGetProperty("entry", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var entry in list.EnumerateArray())
            {
                if (entry.ValueKind != JsonValueKind.Object)
                {
                    // Not an entry at all: set aside with its reason, like a resource that is not one.
                    entries.Add(Entry(entry));
                    continue;
                }

                if (entry.TryGetProperty("search", out var search) && search.ValueKind == JsonValueKind.Object
                    && search.TryGetProperty("mode", out var mode) && mode.ValueKind == JsonValueKind.String && mode.GetString() == "outcome")
                {
                    continue;
                }

                if (!entry.TryGetProperty("resource", out var resource))
                {
                    continue;
                }

                entries.Add(Entry(resource));
            }
        }

        return new SearchPage(entries, Link(root, "next"), LastUpdatedOf(root));
    }

    /// <summary>One resource read by itself (a read, not a search).</summary>
    public static PageEntry Entry(JsonElement resource)
    {
        var references = new List<string>();
        var attachments = new List<string>();
        CollectReferences(resource, references, attachments, 0);
        var problem = Domain.Fhir.ResourceShape.Problem(resource);
        var meta = problem is null && resource.TryGetProperty("meta", out var m) ? m : default;
        return new PageEntry(
            Domain.Fhir.ResourceShape.Type(resource),
            Domain.Fhir.ResourceShape.Id(resource),
            resource.GetRawText(),
            problem,
            references,
            attachments,
            meta.ValueKind == JsonValueKind.Object && meta.TryGetProperty("versionId", out var version) && version.ValueKind == JsonValueKind.String ? version.GetString() : null,
            meta.ValueKind == JsonValueKind.Object && meta.TryGetProperty("lastUpdated", out var updated) && updated.TryGetDateTimeOffset(out var at) ? at : null);
    }

    private static string? Link(JsonElement root, string relation)
    {
        if (!root.TryGetProperty("link", out var links) || links.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        foreach (var link in links.EnumerateArray())
        {
            if (link.ValueKind == JsonValueKind.Object && link.TryGetProperty("relation", out var rel) && rel.ValueKind == JsonValueKind.String
                && rel.GetString() == relation && link.TryGetProperty("url", out var url) && url.ValueKind == JsonValueKind.String)
            {
                return url.GetString();
            }
        }

        return null;
    }

    private static DateTimeOffset? LastUpdatedOf(JsonElement root) =>
        root.TryGetProperty("meta", out var meta) && meta.ValueKind == JsonValueKind.Object && meta.TryGetProperty("lastUpdated", out var value)
            && value.ValueKind == JsonValueKind.String && value.TryGetDateTimeOffset(out var at) ? at : null;

    /// <summary>
    /// Every <c>reference</c> string in the resource, and every Attachment <c>url</c> (an object with a
    /// <c>contentType</c> and a <c>url</c>), to read referenced resources and documents afterwards.
    /// </summary>
    private static void CollectReferences(JsonElement element, List<string> references, List<string> attachments, int depth)
    {
        if (depth > 12)
        {
            return;
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                if (element.TryGetProperty("contentType", out _) && element.TryGetProperty("url", out var url) && url.ValueKind == JsonValueKind.String)
                {
                    attachments.Add(url.GetString()!);
                }

                foreach (var property in element.EnumerateObject())
                {
                    if (property.NameEquals("reference") && property.Value.ValueKind == JsonValueKind.String)
                    {
                        references.Add(property.Value.GetString()!);
                    }
                    else if (!property.NameEquals("contained"))
                    {
                        CollectReferences(property.Value, references, attachments, depth + 1);
                    }
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    CollectReferences(item, references, attachments, depth + 1);
                }

                break;
            default:
                break;
        }
    }
}
