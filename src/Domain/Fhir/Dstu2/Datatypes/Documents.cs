using System.Text.Json.Nodes;

namespace Aggregator.Domain.Fhir.Dstu2.Datatypes;

/// <summary>Attachment and Annotation.</summary>
internal static class Documents
{
    public static JsonObject Attachment(JsonObject source) =>
        ElementBase.From(source)
            .CopyText(source, "contentType")
            .CopyText(source, "language")
            .CopyText(source, "data")
            .CopyText(source, "url")
            .Put("size", Dstu2Reading.AsWholeNumber(source["size"]) is >= 0 and <= int.MaxValue and var size ? JsonValue.Create((int)size) : null)
            .CopyText(source, "hash")
            .CopyText(source, "title")
            .CopyText(source, "creation");

    public static JsonObject? Annotation(JsonObject source) =>
        source.Text("text") is null
            ? null
            : ElementBase.From(source)
                .ConvertOne(source, "authorReference", References.Reference)
                .CopyText(source, "authorString")
                .CopyText(source, "time")
                .CopyText(source, "text");

    /// <summary>A DSTU2 free-text note (a string) as an R4 Annotation.</summary>
    public static JsonObject? Note(string? text) => text is null ? null : new JsonObject { ["text"] = text };
}
