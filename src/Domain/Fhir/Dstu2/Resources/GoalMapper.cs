using System.Text.Json.Nodes;
using Aggregator.Domain.Fhir.Dstu2.Datatypes;

namespace Aggregator.Domain.Fhir.Dstu2.Resources;

/// <summary>
/// Goal: status splits into lifecycleStatus and achievementStatus (R3→R4), description (a string) becomes a
/// CodeableConcept's text, targetDate/targetQuantity → target.dueDate/dueDuration, author → expressedBy,
/// statusReason (a CodeableConcept) → text, outcome → outcomeCode/outcomeReference.
/// </summary>
internal sealed class GoalMapper : IResourceMapper
{
    private static readonly string AchievementSystem = CodeSystems.Terminology("goal-achievement");

    public string Dstu2Type => "Goal";

    public string R4Type => "Goal";

    public void Map(JsonObject source, JsonObject target)
    {
        var (lifecycle, achievement) = Statuses(source.Text("status"));
        target
            .ConvertAll(source, "identifier", Identifiers.Identifier)
            .PutText("lifecycleStatus", lifecycle)
            .RequirePrimitive("lifecycleStatus")
            .Put("achievementStatus", Codes.StatusConcept(AchievementSystem, achievement))
            .ConvertAll(source, "category", Codes.Concept)
            .ConvertOne(source, "priority", Codes.Concept)
            .Put("description", Description(source))
            .RequireElement("description")
            .ConvertOne(source, "subject", References.Reference)
            .RequireElement("subject")
            .CopyChoice(source, "start", ["Date", "CodeableConcept"])
            .Append("target", Target(source))
            .CopyText(source, "statusDate")
            .PutText("statusReason", StatusReason(source.Child("statusReason")))
            .ConvertOne(source, "author", References.Reference, "expressedBy")
            .ConvertAll(source, "addresses", References.Reference)
            .ConvertAll(source, "note", Documents.Annotation)
            .PutAll("outcomeCode", source.Children("outcome").Select(outcome => outcome.Child("resultCodeableConcept")).OfType<JsonObject>().Select(Codes.Concept))
            .PutAll("outcomeReference", source.Children("outcome").Select(outcome => outcome.Child("resultReference")).OfType<JsonObject>().Select(References.Reference));
    }

    /// <summary>
    /// DSTU2 proposed|planned|accepted|rejected|in-progress|achieved|sustaining|on-hold|cancelled, as the HL7 R3→R4
    /// map splits the R3 codes into lifecycle and achievement.
    /// </summary>
    private static (string? Lifecycle, string? Achievement) Statuses(string? status) => status switch
    {
        "proposed" or "planned" or "accepted" or "rejected" or "on-hold" or "cancelled" or "entered-in-error" => (status, null),
        "in-progress" or "on-target" => ("active", "in-progress"),
        "ahead-of-target" => ("active", "improving"),
        "behind-target" => ("active", "worsening"),
        "sustaining" => ("active", "sustaining"),
        "achieved" => ("completed", "achieved"),
        _ => (null, null),
    };

    /// <summary>A string in DSTU2; some servers already sent the R3 CodeableConcept.</summary>
    private static JsonObject? Description(JsonObject source) => source["description"] switch
    {
        JsonObject concept => Codes.Concept(concept),
        var text => Codes.TextConcept(Dstu2Reading.AsText(text)),
    };

    private static JsonObject? Target(JsonObject source)
    {
        var target = new JsonObject()
            .CopyText(source, "targetDate", "dueDate")
            .ConvertOne(source, "targetQuantity", Quantities.Quantity, "dueDuration");
        return target.Count > 0 ? target : null;
    }

    private static string? StatusReason(JsonObject? reason) =>
        reason is null
            ? null
            : reason.Text("text") ?? reason.Children("coding").Select(coding => coding.Text("display") ?? coding.Text("code")).FirstOrDefault(text => text is not null);
}
