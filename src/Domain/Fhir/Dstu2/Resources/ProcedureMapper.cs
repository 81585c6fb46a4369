using System.Text.Json.Nodes;
using Aggregator.Domain.Fhir.Dstu2.Datatypes;

namespace Aggregator.Domain.Fhir.Dstu2.Resources;

/// <summary>
/// Procedure: notPerformed → status <c>not-done</c> (reasonNotPerformed → statusReason), aborted → stopped,
/// reason[x] → reasonCode/reasonReference, performer.role → function, request → basedOn, notes → note,
/// used → usedReference.
/// </summary>
internal sealed class ProcedureMapper : IResourceMapper
{
    public string Dstu2Type => "Procedure";

    public string R4Type => "Procedure";

    public void Map(JsonObject source, JsonObject target)
    {
        var notPerformed = source.Flag("notPerformed") == true;
        target
            .ConvertAll(source, "identifier", Identifiers.Identifier)
            .ConvertAll(source, "request", References.Reference, "basedOn")
            .PutText("status", Status(source.Text("status"), notPerformed))
            .Put("statusReason", source.Children("reasonNotPerformed").Select(Codes.Concept).FirstOrDefault())
            .ConvertOne(source, "category", Codes.Concept)
            .ConvertOne(source, "code", Codes.Concept)
            .ConvertOne(source, "subject", References.Reference)
            .RequireElement("subject")
            .ConvertOne(source, "encounter", References.Reference)
            .CopyChoice(source, "performed", ["DateTime", "Period"])
            .ConvertAll(source, "performer", Performer)
            .ConvertOne(source, "location", References.Reference)
            .ConvertAll(source, "reasonCodeableConcept", Codes.Concept, "reasonCode")
            .ConvertAll(source, "reasonReference", References.Reference)
            .ConvertAll(source, "bodySite", Codes.Concept)
            .ConvertOne(source, "outcome", Codes.Concept)
            .ConvertAll(source, "report", References.Reference)
            .ConvertAll(source, "complication", Codes.Concept)
            .ConvertAll(source, "followUp", Codes.Concept)
            .ConvertAll(source, "notes", Documents.Annotation, "note")
            .ConvertAll(source, "focalDevice", FocalDevice)
            .ConvertAll(source, "used", References.Reference, "usedReference");
    }

    /// <summary>DSTU2 in-progress|aborted|completed|entered-in-error.</summary>
    private static string Status(string? status, bool notPerformed) => status switch
    {
        "entered-in-error" => status,
        _ when notPerformed => "not-done",
        "in-progress" or "completed" => status,
        "aborted" => "stopped",
        _ => "unknown",
    };

    private static JsonObject? Performer(JsonObject source) =>
        source.Child("actor") is not { } actor
            ? null
            : ElementBase.FromBackbone(source)
                .ConvertOne(source, "role", Codes.Concept, "function")
                .Put("actor", References.Reference(actor));

    private static JsonObject? FocalDevice(JsonObject source) =>
        source.Child("manipulated") is not { } manipulated
            ? null
            : ElementBase.FromBackbone(source)
                .ConvertOne(source, "action", Codes.Concept)
                .Put("manipulated", References.Reference(manipulated));
}
