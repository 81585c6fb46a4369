using System.Text.Json.Nodes;

namespace Aggregator.Domain.Fhir.Dstu2.Datatypes;

/// <summary>
/// References stay as given (relative, absolute, <c>urn:uuid:</c> or <c>#contained</c>), except that a reference
/// to a type R4 renamed (<c>MedicationOrder/5</c>) names the R4 type.
/// </summary>
internal static class References
{
    public static JsonObject Reference(JsonObject source) =>
        ElementBase.From(source)
            .PutText("reference", source.Text("reference") is { } reference ? ToR4(reference) : null)
            .CopyText(source, "display");

    public static string ToR4(string reference)
    {
        if (reference.StartsWith('#') || reference.StartsWith("urn:", StringComparison.Ordinal))
        {
            return reference;
        }

        var segments = reference.Split('/');
        for (var index = 0; index < segments.Length - 1; index++)
        {
            // Type/id, possibly after a base URL and before /_history/version.
            if (ResourceTypeNames.IsRenamed(segments[index]) && segments[index + 1].Length > 0)
            {
                segments[index] = ResourceTypeNames.ToR4(segments[index]);
                return string.Join('/', segments);
            }
        }

        return reference;
    }
}
