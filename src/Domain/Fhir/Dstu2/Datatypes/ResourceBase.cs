using System.Text.Json.Nodes;

namespace Aggregator.Domain.Fhir.Dstu2.Datatypes;

/// <summary>The elements every resource carries: id, meta, narrative, contained resources and extensions.</summary>
internal static class ResourceBase
{
    private static readonly HashSet<string> NarrativeStatuses = ["generated", "extensions", "additional", "empty"];

    public static void Copy(JsonObject source, JsonObject target) =>
        target
            .CopyText(source, "id")
            .ConvertOne(source, "meta", Meta)
            .CopyText(source, "implicitRules")
            .CopyText(source, "language")
            .ConvertOne(source, "text", Narrative)
            .PutAll("contained", source.Children("contained").Select(ContainedResource))
            .ConvertAll(source, "extension", Extensions.Convert)
            .ConvertAll(source, "modifierExtension", Extensions.Convert);

    /// <summary>DSTU2 profiles do not describe the R4 form, so only version, time, security labels and tags carry over.</summary>
    private static JsonObject Meta(JsonObject source) =>
        ElementBase.From(source)
            .CopyText(source, "versionId")
            .CopyText(source, "lastUpdated")
            .ConvertAll(source, "security", Codes.Coding)
            .ConvertAll(source, "tag", Codes.Coding);

    private static JsonObject? Narrative(JsonObject source) =>
        source.Text("div") is not { } div
            ? null
            : ElementBase.From(source)
                .PutText("status", source.Text("status") is { } status && NarrativeStatuses.Contains(status) ? status : "generated")
                .PutText("div", div);

    /// <summary>A contained resource of a type we do not map is left out rather than carried in DSTU2 form.</summary>
    private static JsonObject? ContainedResource(JsonObject source) => Dstu2ToR4.Convert(source).Resource;
}
