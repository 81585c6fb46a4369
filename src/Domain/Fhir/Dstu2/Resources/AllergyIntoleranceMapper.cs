using System.Text.Json.Nodes;
using Aggregator.Domain.Fhir.Dstu2.Datatypes;

namespace Aggregator.Domain.Fhir.Dstu2.Resources;

/// <summary>
/// AllergyIntolerance: the single DSTU2 status splits into clinicalStatus and verificationStatus (R3), substance
/// → code, reporter → asserter, criticality CRITL/CRITH/CRITU → low/high/unable-to-assess, category → a list.
/// </summary>
internal sealed class AllergyIntoleranceMapper : IResourceMapper
{
    private static readonly string ClinicalSystem = CodeSystems.Terminology("allergyintolerance-clinical");
    private static readonly string VerificationSystem = CodeSystems.Terminology("allergyintolerance-verification");
    private static readonly HashSet<string> Categories = ["food", "medication", "environment", "biologic"];
    private static readonly HashSet<string> Types = ["allergy", "intolerance"];
    private static readonly HashSet<string> Severities = ["mild", "moderate", "severe"];

    public string Dstu2Type => "AllergyIntolerance";

    public string R4Type => "AllergyIntolerance";

    public void Map(JsonObject source, JsonObject target)
    {
        var (clinical, verification) = Statuses(source.Text("status"));
        target
            .ConvertAll(source, "identifier", Identifiers.Identifier)
            .Put("clinicalStatus", Codes.StatusConcept(ClinicalSystem, clinical))
            .Put("verificationStatus", Codes.StatusConcept(VerificationSystem, verification))
            .PutText("type", source.Text("type") is { } type && Types.Contains(type) ? type : null)
            .PutAll("category", source.Texts("category").Where(Categories.Contains).Select(category => (JsonNode?)JsonValue.Create(category)))
            .PutText("criticality", Criticality(source.Text("criticality")))
            .ConvertOne(source, "substance", Codes.Concept, "code")
            .ConvertOne(source, "patient", References.Reference)
            .RequireElement("patient")
            .CopyText(source, "onset", "onsetDateTime")
            .CopyText(source, "recordedDate")
            .ConvertOne(source, "recorder", References.Reference)
            .ConvertOne(source, "reporter", References.Reference, "asserter")
            .CopyText(source, "lastOccurence", "lastOccurrence")
            .ConvertAll(source, "note", Documents.Annotation)
            .ConvertAll(source, "reaction", Reaction);
    }

    /// <summary>DSTU2 active|unconfirmed|confirmed|inactive|resolved|refuted|entered-in-error.</summary>
    private static (string? Clinical, string? Verification) Statuses(string? status) => status switch
    {
        "active" => ("active", null),
        "unconfirmed" => ("active", "unconfirmed"),
        "confirmed" => ("active", "confirmed"),
        "inactive" => ("inactive", null),
        "resolved" => ("resolved", null),
        "refuted" => (null, "refuted"),
        "entered-in-error" => (null, "entered-in-error"),
        _ => (null, null),
    };


    /// <summary>DSTU2 codes, and the R3 codes some DSTU2 servers already sent.</summary>
    private static string? Criticality(string? criticality) => criticality switch
    {
        "CRITL" or "low" => "low",
        "CRITH" or "high" => "high",
        "CRITU" or "unable-to-assess" => "unable-to-assess",
        _ => null,
    };

    private static JsonObject Reaction(JsonObject source) =>
        ElementBase.FromBackbone(source)
            .Append("extension", Extensions.Dstu2Element("AllergyIntolerance.reaction.certainty", "Code", Primitives.Text(source["certainty"])))
            .ConvertOne(source, "substance", Codes.Concept)
            .ConvertAll(source, "manifestation", Codes.Concept)
            .RequireList("manifestation")
            .CopyText(source, "description")
            .CopyText(source, "onset")
            .PutText("severity", source.Text("severity") is { } severity && Severities.Contains(severity) ? severity : null)
            .ConvertOne(source, "exposureRoute", Codes.Concept)
            .ConvertAll(source, "note", Documents.Annotation);
}
