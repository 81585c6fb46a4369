using System.Text.Json.Nodes;
using Aggregator.Domain.Fhir.Dstu2.Datatypes;

namespace Aggregator.Domain.Fhir.Dstu2.Resources;

/// <summary>
/// CarePlan (intent <c>plan</c>): status proposed → draft and cancelled → revoked, context → encounter, the first
/// author → author and the rest → contributor, support → supportingInfo, relatedPlan → replaces/basedOn,
/// activity.actionResulting → outcomeReference, detail.category → detail.kind, prohibited → doNotPerform.
/// </summary>
internal sealed class CarePlanMapper : IResourceMapper
{
    private static readonly HashSet<string> ActivityStatuses = ["not-started", "scheduled", "in-progress", "on-hold", "completed", "cancelled", "stopped", "unknown", "entered-in-error"];
    private static readonly string[] ScheduledTypes = ["Timing", "Period", "String"];

    public string Dstu2Type => "CarePlan";

    public string R4Type => "CarePlan";

    public void Map(JsonObject source, JsonObject target)
    {
        var authors = source.Children("author").ToArray();
        target
            .ConvertAll(source, "identifier", Identifiers.Identifier)
            .PutAll("basedOn", RelatedPlans(source, "fulfills"))
            .PutAll("replaces", RelatedPlans(source, "replaces"))
            .PutText("status", Status(source.Text("status")))
            .PutText("intent", "plan")
            .ConvertAll(source, "category", Codes.Concept)
            .CopyText(source, "description")
            .ConvertOne(source, "subject", References.Reference)
            .RequireElement("subject")
            .Put("encounter", source.Child("context") is { } context && !IsEpisodeOfCare(context) ? References.Reference(context) : null)
            .ConvertOne(source, "period", Periods.Period)
            .Put("author", authors.Select(References.Reference).FirstOrDefault())
            .PutAll("contributor", authors.Skip(1).Select(References.Reference))
            .ConvertAll(source, "addresses", References.Reference)
            .ConvertAll(source, "support", References.Reference, "supportingInfo")
            .ConvertAll(source, "goal", References.Reference)
            .ConvertAll(source, "activity", Activity)
            .ConvertAll(source, "note", Documents.Annotation);
    }

    /// <summary>DSTU2 proposed|draft|active|completed|cancelled.</summary>
    private static string Status(string? status) => status switch
    {
        "proposed" or "draft" => "draft",
        "active" or "completed" or "on-hold" or "entered-in-error" => status,
        "cancelled" => "revoked",
        _ => "unknown",
    };

    /// <summary>R4 CarePlan.encounter may only point at an Encounter.</summary>
    private static bool IsEpisodeOfCare(JsonObject reference) =>
        reference.Text("reference")?.Contains("EpisodeOfCare/", StringComparison.Ordinal) == true;

    private static IEnumerable<JsonNode?> RelatedPlans(JsonObject source, string code) =>
        source.Children("relatedPlan")
            .Where(related => related.Text("code") == code)
            .Select(related => related.Child("plan") is { } plan ? References.Reference(plan) : null);

    private static JsonObject Activity(JsonObject source) =>
        ElementBase.FromBackbone(source)
            .ConvertAll(source, "actionResulting", References.Reference, "outcomeReference")
            .ConvertAll(source, "progress", Documents.Annotation)
            .ConvertOne(source, "reference", References.Reference)
            .ConvertOne(source, "detail", Detail);

    private static JsonObject Detail(JsonObject source) =>
        ElementBase.FromBackbone(source)
            .PutText("kind", Kind(source.Child("category")))
            .ConvertOne(source, "code", Codes.Concept)
            .ConvertAll(source, "reasonCode", Codes.Concept)
            .ConvertAll(source, "reasonReference", References.Reference)
            .ConvertAll(source, "goal", References.Reference)
            .PutText("status", source.Text("status") is { } status && ActivityStatuses.Contains(status) ? status : "unknown")
            .ConvertOne(source, "statusReason", Codes.Concept)
            .CopyFlag(source, "prohibited", "doNotPerform")
            .CopyChoice(source, "scheduled", ScheduledTypes)
            .ConvertOne(source, "location", References.Reference)
            .ConvertAll(source, "performer", References.Reference)
            .CopyChoice(source, "product", MedicationTypes.All)
            .ConvertOne(source, "dailyAmount", Quantities.Simple)
            .ConvertOne(source, "quantity", Quantities.Simple)
            .CopyText(source, "description");

    /// <summary>The DSTU2 activity category (care-plan-activity-category) as the R4 kind of request it implies.</summary>
    private static string? Kind(JsonObject? category) =>
        category?.Children("coding").Select(coding => coding.Text("code")).FirstOrDefault(code => code is not null) switch
        {
            "diet" => "NutritionOrder",
            "drug" => "MedicationRequest",
            "encounter" => "Appointment",
            "observation" or "procedure" => "ServiceRequest",
            "supply" => "DeviceRequest",
            _ => null,
        };
}
