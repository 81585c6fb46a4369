using System.Text.Json.Nodes;
using Aggregator.Domain.Fhir.Dstu2.Datatypes;

namespace Aggregator.Domain.Fhir.Dstu2.Resources;

/// <summary>
/// MedicationDispense: patient → subject, dispenser → performer.actor, the single identifier becomes a list,
/// note becomes an Annotation, dosage instructions as R4 Dosage, and a substitution states that one was made.
/// </summary>
internal sealed class MedicationDispenseMapper : IResourceMapper
{
    private static readonly HashSet<string> Statuses = ["in-progress", "on-hold", "completed", "entered-in-error", "stopped"];

    public string Dstu2Type => "MedicationDispense";

    public string R4Type => "MedicationDispense";

    public void Map(JsonObject source, JsonObject target) =>
        target
            .ConvertAll(source, "identifier", Identifiers.Identifier)
            .PutText("status", source.Text("status") is { } status && Statuses.Contains(status) ? status : "unknown")
            .CopyChoice(source, "medication", MedicationTypes.All)
            .RequireElement("medicationCodeableConcept", "medicationReference")
            .ConvertOne(source, "patient", References.Reference, "subject")
            .Append("performer", source.Child("dispenser") is { } dispenser ? new JsonObject { ["actor"] = References.Reference(dispenser) } : null)
            .ConvertAll(source, "authorizingPrescription", References.Reference)
            .ConvertOne(source, "type", Codes.Concept)
            .ConvertOne(source, "quantity", Quantities.Simple)
            .ConvertOne(source, "daysSupply", Quantities.Simple)
            .CopyText(source, "whenPrepared")
            .CopyText(source, "whenHandedOver")
            .ConvertOne(source, "destination", References.Reference)
            .ConvertAll(source, "receiver", References.Reference)
            .Append("note", Documents.Note(source.Text("note")))
            .ConvertAll(source, "dosageInstruction", dosage => Dosages.Dosage(dosage, "dose"))
            .ConvertOne(source, "substitution", Substitution);

    /// <summary>In DSTU2 the substitution element is only present when a substitution was made.</summary>
    private static JsonObject Substitution(JsonObject source) =>
        ElementBase.FromBackbone(source)
            .PutFlag("wasSubstituted", true)
            .ConvertOne(source, "type", Codes.Concept)
            .ConvertAll(source, "reason", Codes.Concept)
            .ConvertAll(source, "responsibleParty", References.Reference);
}
