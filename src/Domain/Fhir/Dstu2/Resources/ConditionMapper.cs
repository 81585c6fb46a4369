using System.Text.Json.Nodes;
using Aggregator.Domain.Fhir.Dstu2.Datatypes;

namespace Aggregator.Domain.Fhir.Dstu2.Resources;

/// <summary>
/// Condition: patient → subject, dateRecorded → recordedDate, the clinical and verification status codes become
/// CodeableConcepts, category/stage/evidence become lists, onsetQuantity/abatementQuantity become Age and
/// abatementBoolean (gone in R4) is carried by the clinical status.
/// </summary>
internal sealed class ConditionMapper : IResourceMapper
{
    private static readonly string ClinicalSystem = CodeSystems.Terminology("condition-clinical");
    private static readonly string VerificationSystem = CodeSystems.Terminology("condition-ver-status");
    private static readonly string[] OnsetTypes = ["DateTime", "Age", "Period", "Range", "String"];
    private static readonly Dictionary<string, string> QuantityIsAge = new() { ["Quantity"] = "Age" };

    /// <summary>R4 con-4: an abated condition is inactive, resolved or in remission.</summary>
    private static readonly HashSet<string> AbatedStatuses = ["inactive", "resolved", "remission"];

    public string Dstu2Type => "Condition";

    public string R4Type => "Condition";

    public void Map(JsonObject source, JsonObject target)
    {
        var verification = Verification(source.Text("verificationStatus"));
        var clinical = verification == "entered-in-error" ? null : Clinical(source.Text("clinicalStatus"), IsAbated(source));
        target
            .ConvertAll(source, "identifier", Identifiers.Identifier)
            .Put("clinicalStatus", Codes.StatusConcept(ClinicalSystem, clinical))
            .Put("verificationStatus", Codes.StatusConcept(VerificationSystem, verification))
            .ConvertAll(source, "category", Codes.Concept)
            .ConvertOne(source, "severity", Codes.Concept)
            .ConvertOne(source, "code", Codes.Concept)
            .ConvertAll(source, "bodySite", Codes.Concept)
            .ConvertOne(source, "patient", References.Reference, "subject")
            .RequireElement("subject")
            .ConvertOne(source, "encounter", References.Reference)
            .CopyChoice(source, "onset", OnsetTypes, QuantityIsAge)
            .CopyChoice(source, "abatement", OnsetTypes, QuantityIsAge)
            .CopyText(source, "dateRecorded", "recordedDate")
            .ConvertOne(source, "asserter", References.Reference)
            .ConvertAll(source, "stage", Stage)
            .ConvertAll(source, "evidence", Evidence)
            .Append("note", Documents.Note(source.Text("notes")));
    }

    /// <summary>
    /// DSTU2 active|relapse|remission|resolved (the R4 codes are a superset). A condition DSTU2 marks abated but
    /// still active is reported resolved, since R4 does not allow an abated active condition.
    /// </summary>
    private static string? Clinical(string? status, bool abated) => status switch
    {
        "active" or "relapse" or "recurrence" or null when abated => "resolved",
        "active" or "relapse" or "recurrence" or "inactive" or "remission" or "resolved" => status,
        _ => null,
    };

    private static bool IsAbated(JsonObject source) => source.Choice("abatement") switch
    {
        ("Boolean", var value) => Dstu2Reading.AsFlag(value) == true,
        (_, var value) => value is JsonObject || Dstu2Reading.AsText(value) is not null,
        null => false,
    };

    /// <summary>DSTU2 provisional|differential|confirmed|refuted|entered-in-error|unknown; R4 has no "unknown".</summary>
    private static string? Verification(string? status) => status switch
    {
        "provisional" or "differential" or "confirmed" or "refuted" or "entered-in-error" or "unconfirmed" => status,
        _ => null,
    };


    private static JsonObject Stage(JsonObject source) =>
        ElementBase.FromBackbone(source)
            .ConvertOne(source, "summary", Codes.Concept)
            .ConvertAll(source, "assessment", References.Reference);

    private static JsonObject Evidence(JsonObject source) =>
        ElementBase.FromBackbone(source)
            .ConvertAll(source, "code", Codes.Concept)
            .ConvertAll(source, "detail", References.Reference);
}
