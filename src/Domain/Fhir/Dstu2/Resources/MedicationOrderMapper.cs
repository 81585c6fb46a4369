using System.Text.Json.Nodes;
using Aggregator.Domain.Fhir.Dstu2.Datatypes;

namespace Aggregator.Domain.Fhir.Dstu2.Resources;

/// <summary>
/// MedicationOrder → MedicationRequest (intent <c>order</c>): dateWritten → authoredOn, prescriber → requester,
/// patient → subject, reason[x] → reasonCode/reasonReference, reasonEnded → statusReason, dosage instructions as
/// R4 Dosage, substitution.type → substitution.allowedCodeableConcept.
/// </summary>
internal sealed class MedicationOrderMapper : IResourceMapper
{
    private static readonly HashSet<string> Statuses = ["active", "on-hold", "completed", "entered-in-error", "stopped", "draft", "cancelled"];

    public string Dstu2Type => "MedicationOrder";

    public string R4Type => "MedicationRequest";

    public void Map(JsonObject source, JsonObject target) =>
        target
            .Append("extension", Extensions.Dstu2Element("MedicationOrder.dateEnded", "DateTime", Primitives.Text(source["dateEnded"])))
            .ConvertAll(source, "identifier", Identifiers.Identifier)
            .PutText("status", source.Text("status") is { } status && Statuses.Contains(status) ? status : "unknown")
            .ConvertOne(source, "reasonEnded", Codes.Concept, "statusReason")
            .PutText("intent", "order")
            .CopyChoice(source, "medication", MedicationTypes.All)
            .RequireElement("medicationCodeableConcept", "medicationReference")
            .ConvertOne(source, "patient", References.Reference, "subject")
            .RequireElement("subject")
            .ConvertOne(source, "encounter", References.Reference)
            .CopyText(source, "dateWritten", "authoredOn")
            .ConvertOne(source, "prescriber", References.Reference, "requester")
            .ConvertAll(source, "reasonCodeableConcept", Codes.Concept, "reasonCode")
            .ConvertAll(source, "reasonReference", References.Reference)
            .Append("note", Documents.Note(source.Text("note")))
            .ConvertAll(source, "dosageInstruction", dosage => Dosages.Dosage(dosage, "dose"))
            .ConvertOne(source, "dispenseRequest", DispenseRequest)
            .ConvertOne(source, "substitution", Substitution)
            .ConvertOne(source, "priorPrescription", References.Reference);

    /// <summary>dispenseRequest.medication[x] has no R4 counterpart: the request names one medication.</summary>
    private static JsonObject DispenseRequest(JsonObject source) =>
        ElementBase.FromBackbone(source)
            .ConvertOne(source, "validityPeriod", Periods.Period)
            .Put("numberOfRepeatsAllowed", Dstu2Reading.AsWholeNumber(source["numberOfRepeatsAllowed"]) is >= 0 and <= int.MaxValue and var repeats
                ? JsonValue.Create((int)repeats)
                : null)
            .ConvertOne(source, "quantity", Quantities.Simple)
            .ConvertOne(source, "expectedSupplyDuration", Quantities.Quantity);

    /// <summary>DSTU2 states the kind of substitution allowed; absent, DSTU2 says substitution may be done.</summary>
    private static JsonObject Substitution(JsonObject source) =>
        ElementBase.FromBackbone(source)
            .Put("allowedCodeableConcept", source.Child("type") is { } type ? Codes.Concept(type) : null)
            .PutFlag("allowedBoolean", source.Child("type") is null ? true : null)
            .ConvertOne(source, "reason", Codes.Concept);
}
