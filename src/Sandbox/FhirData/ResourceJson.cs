using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aggregator.Sandbox.FhirData;

/// <summary>Small reads and rewrites of FHIR resources held as <see cref="JsonNode"/>s.</summary>
public static class ResourceJson
{
    public static string? TypeOf(JsonObject resource) => StringOf(resource["resourceType"]);

    public static JsonObject ParseObject(byte[] json) => JsonNode.Parse(json)!.AsObject();

    public static string? IdOf(JsonObject resource) => StringOf(resource["id"]);

    public static string? StringOf(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    /// <summary>Replaces every <c>reference</c> string the map knows (the map returns null to keep a value).</summary>
    public static void RewriteReferences(JsonNode? node, Func<string, string?> map)
    {
        switch (node)
        {
            case JsonObject obj:
                if (StringOf(obj["reference"]) is { } reference && map(reference) is { } replaced)
                {
                    obj["reference"] = replaced;
                }

                foreach (var (name, child) in obj)
                {
                    if (name != "reference")
                    {
                        RewriteReferences(child, map);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    RewriteReferences(item, map);
                }

                break;
        }
    }

    /// <summary>The codings of a CodeableConcept, an array of them, or a plain code string.</summary>
    public static IEnumerable<SearchToken> TokensOf(JsonNode? node)
    {
        switch (node)
        {
            case JsonArray array:
                foreach (var item in array)
                {
                    foreach (var token in TokensOf(item))
                    {
                        yield return token;
                    }
                }

                break;
            case JsonObject concept:
                foreach (var coding in (concept["coding"] as JsonArray ?? []).OfType<JsonObject>())
                {
                    if (StringOf(coding["code"]) is { Length: > 0 } code)
                    {
                        yield return new SearchToken(StringOf(coding["system"]), code);
                    }
                }

                break;
            case JsonValue when StringOf(node) is { Length: > 0 } code:
                yield return new SearchToken(null, code);
                break;
        }
    }

    public static string? ReferenceOf(JsonNode? node) => StringOf((node as JsonObject)?["reference"]);
}
