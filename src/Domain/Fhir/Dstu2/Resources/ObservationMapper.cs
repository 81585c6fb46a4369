using System.Text.Json.Nodes;
using Aggregator.Domain.Fhir.Dstu2.Datatypes;

namespace Aggregator.Domain.Fhir.Dstu2.Resources;

/// <summary>
/// Observation: category and interpretation become lists, comments → note, referenceRange.meaning → type,
/// related has-member/derived-from → hasMember/derivedFrom; values and components keep their units (UCUM's
/// system URL without DSTU2's trailing slash). valueAttachment, gone in R4, is kept in an extension.
/// </summary>
internal sealed class ObservationMapper : IResourceMapper
{
    private static readonly HashSet<string> Statuses =
        ["registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"];

    private static readonly string[] ValueTypes =
        ["Quantity", "CodeableConcept", "String", "Boolean", "Integer", "Range", "Ratio", "SampledData", "Time", "DateTime", "Period"];

    public string Dstu2Type => "Observation";

    public string R4Type => "Observation";

    public void Map(JsonObject source, JsonObject target) =>
        target
            .Append("extension", ValueAttachment(source))
            .ConvertAll(source, "identifier", Identifiers.Identifier)
            .PutText("status", source.Text("status") is { } status && Statuses.Contains(status) ? status : "unknown")
            .ConvertAll(source, "category", Codes.Concept)
            .ConvertOne(source, "code", Codes.Concept)
            .RequireElement("code")
            .ConvertOne(source, "subject", References.Reference)
            .ConvertOne(source, "encounter", References.Reference)
            .CopyChoice(source, "effective", ["DateTime", "Period"])
            .CopyText(source, "issued")
            .ConvertAll(source, "performer", References.Reference)
            .CopyChoice(source, "value", ValueTypes)
            .ConvertOne(source, "dataAbsentReason", Codes.Concept)
            .ConvertAll(source, "interpretation", Codes.Concept)
            .Append("note", Documents.Note(source.Text("comments")))
            .ConvertOne(source, "bodySite", Codes.Concept)
            .ConvertOne(source, "method", Codes.Concept)
            .ConvertOne(source, "specimen", References.Reference)
            .ConvertOne(source, "device", References.Reference)
            .ConvertAll(source, "referenceRange", ReferenceRange)
            .PutAll("hasMember", Related(source, "has-member"))
            .PutAll("derivedFrom", Related(source, "derived-from"))
            .ConvertAll(source, "component", Component);

    private static JsonObject? ValueAttachment(JsonObject source) =>
        source.Child("valueAttachment") is { } attachment
            ? Extensions.Dstu2Element("Observation.valueAttachment", "Attachment", Documents.Attachment(attachment))
            : null;

    private static JsonObject ReferenceRange(JsonObject source) =>
        ElementBase.FromBackbone(source)
            .ConvertOne(source, "low", Quantities.Simple)
            .ConvertOne(source, "high", Quantities.Simple)
            .ConvertOne(source, "meaning", Codes.Concept, "type")
            .ConvertOne(source, "age", Quantities.Range)
            .CopyText(source, "text");

    private static IEnumerable<JsonNode?> Related(JsonObject source, string relationship) =>
        source.Children("related")
            .Where(related => related.Text("type") == relationship)
            .Select(related => related.Child("target") is { } reference ? References.Reference(reference) : null);

    private static JsonObject Component(JsonObject source) =>
        ElementBase.FromBackbone(source)
            .ConvertOne(source, "code", Codes.Concept)
            .RequireElement("code")
            .CopyChoice(source, "value", ValueTypes)
            .ConvertOne(source, "dataAbsentReason", Codes.Concept)
            .ConvertAll(source, "referenceRange", ReferenceRange);
}
