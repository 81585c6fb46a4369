using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Aggregator.Domain.Fhir;

/// <summary>
/// The cheap structural checks a resource must pass before we store it as usable: a resource type,
/// a valid id, and well-formed <c>meta</c>. What fails is kept aside with the reason.
/// </summary>
public static partial class ResourceShape
{
    /// <summary>Null when usable, else why not.</summary>
    public static string? Problem(JsonElement resource)
    {
        if (resource.ValueKind != JsonValueKind.Object)
        {
            return "the entry's resource is not a JSON object";
        }

        if (!resource.TryGetProperty("resourceType", out var type) || type.ValueKind != JsonValueKind.String || !TypePattern().IsMatch(type.GetString()!))
        {
            return "resourceType is missing or not a type name";
        }

        if (!resource.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String || !IdPattern().IsMatch(id.GetString()!))
        {
            return "id is missing or not a valid FHIR id";
        }

        foreach (var (name, kind) in ElementKinds)
        {
            if (resource.TryGetProperty(name, out var element) && element.ValueKind != kind)
            {
                return $"{name} is not {(kind == JsonValueKind.String ? "a string" : kind == JsonValueKind.Array ? "a list" : "an object")}";
            }
        }

        if (resource.TryGetProperty("meta", out var meta))
        {
            if (meta.ValueKind != JsonValueKind.Object)
            {
                return "meta is not an object";
            }

            if (meta.TryGetProperty("lastUpdated", out var lastUpdated)
                && (lastUpdated.ValueKind != JsonValueKind.String || !DateTimeOffset.TryParse(lastUpdated.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _)))
            {
                return "meta.lastUpdated is not an instant";
            }
        }

        return null;
    }

    /// <summary>Elements whose JSON shape is the same in every resource type that has them (R4 and DSTU2).</summary>
    private static readonly (string Name, JsonValueKind Kind)[] ElementKinds =
    [
        ("status", JsonValueKind.String), ("intent", JsonValueKind.String), ("gender", JsonValueKind.String),
        ("birthDate", JsonValueKind.String), ("authoredOn", JsonValueKind.String), ("issued", JsonValueKind.String),
        ("effectiveDateTime", JsonValueKind.String), ("text", JsonValueKind.Object), ("code", JsonValueKind.Object),
        ("subject", JsonValueKind.Object), ("patient", JsonValueKind.Object), ("encounter", JsonValueKind.Object),
        ("valueQuantity", JsonValueKind.Object), ("identifier", JsonValueKind.Array), ("extension", JsonValueKind.Array),
        ("contained", JsonValueKind.Array), ("meta", JsonValueKind.Object),
    ];

    public static string? Type(JsonElement resource) =>
        resource.ValueKind == JsonValueKind.Object && resource.TryGetProperty("resourceType", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString() : null;

    public static string? Id(JsonElement resource) =>
        resource.ValueKind == JsonValueKind.Object && resource.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;

    [GeneratedRegex("^[A-Za-z0-9\\-\\.]{1,64}$")]
    private static partial Regex IdPattern();

    [GeneratedRegex("^[A-Z][A-Za-z]{1,63}$")]
    private static partial Regex TypePattern();
}
