using System.Text.Json.Nodes;
using Aggregator.Domain.Fhir.Dstu2.Datatypes;

namespace Aggregator.Domain.Fhir.Dstu2.Resources;

/// <summary>
/// DocumentReference: indexed → date (R3→R4), class → category, docStatus (a CodeableConcept in DSTU2) → code,
/// content.format → one Coding, context.encounter → a list, context.related → references. R4 has no place for
/// the document's own creation time, so <c>created</c> is kept in an extension, as the HL7 maps do.
/// </summary>
internal sealed class DocumentReferenceMapper : IResourceMapper
{
    private static readonly HashSet<string> Statuses = ["current", "superseded", "entered-in-error"];
    private static readonly HashSet<string> DocStatuses = ["preliminary", "final", "amended", "entered-in-error"];
    private static readonly HashSet<string> Relationships = ["replaces", "transforms", "signs", "appends"];

    public string Dstu2Type => "DocumentReference";

    public string R4Type => "DocumentReference";

    public void Map(JsonObject source, JsonObject target) =>
        target
            .Append("extension", Extensions.Dstu2Element("DocumentReference.created", "DateTime", Primitives.Text(source["created"])))
            .ConvertOne(source, "masterIdentifier", Identifiers.Identifier)
            .ConvertAll(source, "identifier", Identifiers.Identifier)
            .PutText("status", source.Text("status") is { } status && Statuses.Contains(status) ? status : null)
            .RequirePrimitive("status")
            .PutText("docStatus", source.Child("docStatus")?.Children("coding").Select(coding => coding.Text("code"))
                .FirstOrDefault(code => code is not null && DocStatuses.Contains(code)))
            .ConvertOne(source, "type", Codes.Concept)
            .ConvertAll(source, "class", Codes.Concept, "category")
            .ConvertOne(source, "subject", References.Reference)
            .CopyText(source, "indexed", "date")
            .ConvertAll(source, "author", References.Reference)
            .ConvertOne(source, "authenticator", References.Reference)
            .ConvertOne(source, "custodian", References.Reference)
            .ConvertAll(source, "relatesTo", RelatesTo)
            .CopyText(source, "description")
            .ConvertAll(source, "securityLabel", Codes.Concept)
            .ConvertAll(source, "content", Content)
            .RequireList("content")
            .ConvertOne(source, "context", Context);

    private static JsonObject? RelatesTo(JsonObject source) =>
        source.Text("code") is { } code && Relationships.Contains(code) && source.Child("target") is { } relatedTarget
            ? ElementBase.FromBackbone(source)
                .PutText("code", code)
                .Put("target", References.Reference(relatedTarget))
            : null;

    private static JsonObject? Content(JsonObject source) =>
        source.Child("attachment") is not { } attachment
            ? null
            : ElementBase.FromBackbone(source)
                .Put("attachment", Documents.Attachment(attachment))
                .Put("format", source.Children("format").Select(Codes.Coding).FirstOrDefault());

    private static JsonObject Context(JsonObject source) =>
        ElementBase.FromBackbone(source)
            .ConvertAll(source, "encounter", References.Reference)
            .ConvertAll(source, "event", Codes.Concept)
            .ConvertOne(source, "period", Periods.Period)
            .ConvertOne(source, "facilityType", Codes.Concept)
            .ConvertOne(source, "practiceSetting", Codes.Concept)
            .ConvertOne(source, "sourcePatientInfo", References.Reference)
            .ConvertAll(source, "related", Related);

    /// <summary>DSTU2 related {identifier, ref} becomes one R4 Reference carrying both.</summary>
    private static JsonObject Related(JsonObject source) =>
        (source.Child("ref") is { } reference ? References.Reference(reference) : [])
            .ConvertOne(source, "identifier", Identifiers.Identifier);
}
