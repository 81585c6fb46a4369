using System.Text.Json.Nodes;

namespace Aggregator.Domain.Fhir.Dstu2.Datatypes;

/// <summary>Extensions keep their url; their value is converted like any element of its type.</summary>
internal static class Extensions
{
    /// <summary>
    /// The canonical base of the cross-version extensions that carry DSTU2 elements R4 has no place for
    /// (http://hl7.org/fhir/1.0/StructureDefinition/extension-[Resource].[element]).
    /// </summary>
    private const string Dstu2ElementBase = "http://hl7.org/fhir/1.0/StructureDefinition/extension-";

    public static JsonObject? Convert(JsonObject source)
    {
        if (source.Text("url") is not { } url)
        {
            return null;
        }

        var extension = new JsonObject { ["url"] = url }
            .CopyText(source, "id")
            .ConvertAll(source, "extension", Convert);
        var hasValue = source.Choice("value") is var (type, value) && ChoiceValues.Convert(type, value) is { } converted
            && extension.Put("value" + type, converted) is not null;

        // An extension needs a value or nested extensions (ext-1); one that lost both says nothing.
        return hasValue || extension.ContainsKey("extension") ? extension : null;
    }

    /// <summary>An extension that keeps a DSTU2 element R4 dropped, e.g. <c>MedicationOrder.dateEnded</c>.</summary>
    public static JsonObject? Dstu2Element(string path, string valueType, JsonNode? value) =>
        value is null ? null : new JsonObject { ["url"] = Dstu2ElementBase + path, ["value" + valueType] = value };
}
