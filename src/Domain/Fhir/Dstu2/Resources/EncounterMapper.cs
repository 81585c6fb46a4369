using System.Text.Json.Nodes;
using Aggregator.Domain.Fhir.Dstu2.Datatypes;

namespace Aggregator.Domain.Fhir.Dstu2.Resources;

/// <summary>
/// Encounter: the class code becomes a v3 ActCode Coding, patient → subject, reason → reasonCode,
/// incomingReferral → basedOn, indication and the admitting/discharge diagnoses → diagnosis, appointment → a list.
/// </summary>
internal sealed class EncounterMapper : IResourceMapper
{
    private static readonly string ActCodeSystem = CodeSystems.Terminology("v3-ActCode");
    private static readonly string DiagnosisRoleSystem = CodeSystems.Terminology("diagnosis-role");
    private static readonly HashSet<string> Statuses = ["planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled", "entered-in-error"];
    private static readonly HashSet<string> LocationStatuses = ["planned", "active", "reserved", "completed"];

    public string Dstu2Type => "Encounter";

    public string R4Type => "Encounter";

    public void Map(JsonObject source, JsonObject target)
    {
        var hospitalization = source.Child("hospitalization");
        target
            .ConvertAll(source, "identifier", Identifiers.Identifier)
            .PutText("status", Status(source.Text("status")))
            .ConvertAll(source, "statusHistory", StatusHistory)
            .Put("class", Class(source.Text("class")))
            .RequireElement("class")
            .ConvertAll(source, "type", Codes.Concept)
            .ConvertOne(source, "priority", Codes.Concept)
            .ConvertOne(source, "patient", References.Reference, "subject")
            .ConvertAll(source, "episodeOfCare", References.Reference)
            .ConvertAll(source, "incomingReferral", References.Reference, "basedOn")
            .ConvertAll(source, "participant", Participant)
            .ConvertAll(source, "appointment", References.Reference)
            .ConvertOne(source, "period", Periods.Period)
            .ConvertOne(source, "length", Quantities.Quantity)
            .ConvertAll(source, "reason", Codes.Concept, "reasonCode")
            .PutAll("diagnosis", Diagnoses(source.Children("indication"), null)
                .Concat(Diagnoses(hospitalization?.Children("admittingDiagnosis") ?? [], ("AD", "Admission diagnosis")))
                .Concat(Diagnoses(hospitalization?.Children("dischargeDiagnosis") ?? [], ("DD", "Discharge diagnosis"))))
            .Put("hospitalization", hospitalization is null ? null : Hospitalization(hospitalization))
            .ConvertAll(source, "location", Location)
            .ConvertOne(source, "serviceProvider", References.Reference)
            .ConvertOne(source, "partOf", References.Reference);
    }

    /// <summary>DSTU2 planned|arrived|in-progress|onleave|finished|cancelled: all R4 codes too.</summary>
    private static string Status(string? status) => status is not null && Statuses.Contains(status) ? status : "unknown";

    /// <summary>The DSTU2 class codes as the v3 ActCode concepts the HL7 R2→R4 conversion uses.</summary>
    private static JsonObject? Class(string? encounterClass) => encounterClass switch
    {
        "inpatient" => Codes.Coding(ActCodeSystem, "IMP", "inpatient encounter"),
        "outpatient" or "ambulatory" => Codes.Coding(ActCodeSystem, "AMB", "ambulatory"),
        "emergency" => Codes.Coding(ActCodeSystem, "EMER", "emergency"),
        "home" => Codes.Coding(ActCodeSystem, "HH", "home health"),
        "field" => Codes.Coding(ActCodeSystem, "FLD", "field"),
        "daytime" => Codes.Coding(ActCodeSystem, "SS", "short stay"),
        "virtual" => Codes.Coding(ActCodeSystem, "VR", "virtual"),
        _ => null,
    };

    private static JsonObject? StatusHistory(JsonObject source) =>
        source.Child("period") is not { } period || !Statuses.Contains(source.Text("status") ?? "")
            ? null
            : ElementBase.FromBackbone(source)
                .CopyText(source, "status")
                .Put("period", Periods.Period(period));

    private static JsonObject Participant(JsonObject source) =>
        ElementBase.FromBackbone(source)
            .ConvertAll(source, "type", Codes.Concept)
            .ConvertOne(source, "period", Periods.Period)
            .ConvertOne(source, "individual", References.Reference);

    private static IEnumerable<JsonNode?> Diagnoses(IEnumerable<JsonObject> conditions, (string Code, string Display)? role) =>
        conditions.Select(condition => new JsonObject { ["condition"] = References.Reference(condition) }
            .Put("use", role is var (code, display) ? Codes.Concept(DiagnosisRoleSystem, code, display) : null));

    private static JsonObject Hospitalization(JsonObject source) =>
        ElementBase.FromBackbone(source)
            .ConvertOne(source, "preAdmissionIdentifier", Identifiers.Identifier)
            .ConvertOne(source, "origin", References.Reference)
            .ConvertOne(source, "admitSource", Codes.Concept)
            .ConvertOne(source, "reAdmission", Codes.Concept)
            .ConvertAll(source, "dietPreference", Codes.Concept)
            .ConvertAll(source, "specialCourtesy", Codes.Concept)
            .ConvertAll(source, "specialArrangement", Codes.Concept)
            .ConvertOne(source, "destination", References.Reference)
            .ConvertOne(source, "dischargeDisposition", Codes.Concept);

    private static JsonObject? Location(JsonObject source) =>
        source.Child("location") is not { } location
            ? null
            : ElementBase.FromBackbone(source)
                .Put("location", References.Reference(location))
                .PutText("status", source.Text("status") is { } status && LocationStatuses.Contains(status) ? status : null)
                .ConvertOne(source, "period", Periods.Period);
}
