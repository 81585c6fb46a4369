using System.Text.Json.Nodes;
using Aggregator.Domain.Fhir.Dstu2.Datatypes;

namespace Aggregator.Domain.Fhir.Dstu2.Resources;

/// <summary>
/// Immunization: wasNotGiven → status <c>not-done</c> (with reasonNotGiven → statusReason), date →
/// occurrenceDateTime, reported → primarySource (inverted), performer/requester → performer with the v2-0443
/// function AP/OP, explanation.reason → reasonCode, vaccinationProtocol → protocolApplied.
/// </summary>
internal sealed class ImmunizationMapper : IResourceMapper
{
    private static readonly string PerformerFunctionSystem = CodeSystems.Terminology("v2-0443");

    public string Dstu2Type => "Immunization";

    public string R4Type => "Immunization";

    public void Map(JsonObject source, JsonObject target)
    {
        var notGiven = source.Flag("wasNotGiven") == true;
        var explanation = source.Child("explanation") ?? [];
        target
            .ConvertAll(source, "identifier", Identifiers.Identifier)
            .PutText("status", Status(source.Text("status"), notGiven))
            .Put("statusReason", notGiven ? explanation.Children("reasonNotGiven").Select(Codes.Concept).FirstOrDefault() : null)
            .ConvertOne(source, "vaccineCode", Codes.Concept)
            .RequireElement("vaccineCode")
            .ConvertOne(source, "patient", References.Reference)
            .RequireElement("patient")
            .ConvertOne(source, "encounter", References.Reference)
            .CopyText(source, "date", "occurrenceDateTime")
            .RequirePrimitive("occurrenceDateTime")
            .PutFlag("primarySource", source.Flag("reported") is { } reported ? !reported : null)
            .ConvertOne(source, "location", References.Reference)
            .ConvertOne(source, "manufacturer", References.Reference)
            .CopyText(source, "lotNumber")
            .CopyText(source, "expirationDate")
            .ConvertOne(source, "site", Codes.Concept)
            .ConvertOne(source, "route", Codes.Concept)
            .ConvertOne(source, "doseQuantity", Quantities.Simple)
            .Append("performer", Performer(source.Child("performer"), "AP", "Administering Provider"))
            .Append("performer", Performer(source.Child("requester"), "OP", "Ordering Provider"))
            .ConvertAll(source, "note", Documents.Annotation)
            .ConvertAll(explanation, "reason", Codes.Concept, "reasonCode")
            .ConvertAll(source, "reaction", Reaction)
            .ConvertAll(source, "vaccinationProtocol", ProtocolApplied, "protocolApplied");
    }

    /// <summary>
    /// R4 only records what happened: completed, not-done or entered-in-error. DSTU2's in-progress, on-hold and
    /// stopped administrations still gave a dose, so they read as completed.
    /// </summary>
    private static string Status(string? status, bool notGiven) =>
        status == "entered-in-error" ? status : notGiven ? "not-done" : "completed";

    private static JsonObject? Performer(JsonObject? actor, string function, string display) =>
        actor is null
            ? null
            : new JsonObject
            {
                ["function"] = Codes.Concept(PerformerFunctionSystem, function, display),
                ["actor"] = References.Reference(actor),
            };

    private static JsonObject Reaction(JsonObject source) =>
        ElementBase.FromBackbone(source)
            .CopyText(source, "date")
            .ConvertOne(source, "detail", References.Reference)
            .CopyFlag(source, "reported");

    private static JsonObject ProtocolApplied(JsonObject source) =>
        ElementBase.FromBackbone(source)
            .CopyText(source, "series")
            .ConvertOne(source, "authority", References.Reference)
            .ConvertAll(source, "targetDisease", Codes.Concept)
            .Put("doseNumberPositiveInt", PositiveInt(source["doseSequence"]))
            .RequirePrimitive("doseNumberPositiveInt")
            .Put("seriesDosesPositiveInt", PositiveInt(source["seriesDoses"]));

    private static JsonValue? PositiveInt(JsonNode? node) =>
        Dstu2Reading.AsWholeNumber(node) is > 0 and <= int.MaxValue and var number ? JsonValue.Create((int)number) : null;
}
