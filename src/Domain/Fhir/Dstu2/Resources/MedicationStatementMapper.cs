using System.Text.Json.Nodes;
using Aggregator.Domain.Fhir.Dstu2.Datatypes;

namespace Aggregator.Domain.Fhir.Dstu2.Resources;

/// <summary>
/// MedicationStatement: wasNotTaken → status <c>not-taken</c> with reasonNotTaken → statusReason, patient →
/// subject, reasonForUse[x] → reasonCode/reasonReference, supportingInformation → derivedFrom, dosage as R4 Dosage.
/// </summary>
internal sealed class MedicationStatementMapper : IResourceMapper
{
    private static readonly HashSet<string> Statuses = ["active", "completed", "entered-in-error", "intended", "stopped", "on-hold"];

    public string Dstu2Type => "MedicationStatement";

    public string R4Type => "MedicationStatement";

    public void Map(JsonObject source, JsonObject target) =>
        target
            .ConvertAll(source, "identifier", Identifiers.Identifier)
            .PutText("status", Status(source))
            .ConvertAll(source, "reasonNotTaken", Codes.Concept, "statusReason")
            .CopyChoice(source, "medication", MedicationTypes.All)
            .RequireElement("medicationCodeableConcept", "medicationReference")
            .ConvertOne(source, "patient", References.Reference, "subject")
            .RequireElement("subject")
            .CopyChoice(source, "effective", ["DateTime", "Period"])
            .CopyText(source, "dateAsserted")
            .ConvertOne(source, "informationSource", References.Reference)
            .ConvertAll(source, "supportingInformation", References.Reference, "derivedFrom")
            .ConvertAll(source, "reasonForUseCodeableConcept", Codes.Concept, "reasonCode")
            .ConvertAll(source, "reasonForUseReference", References.Reference, "reasonReference")
            .Append("note", Documents.Note(source.Text("note")))
            .ConvertAll(source, "dosage", dosage => Dosages.Dosage(dosage, "quantity"));

    private static string Status(JsonObject source) =>
        source.Flag("wasNotTaken") == true && source.Text("status") != "entered-in-error"
            ? "not-taken"
            : source.Text("status") is { } status && Statuses.Contains(status) ? status : "unknown";
}
