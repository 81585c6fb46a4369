using System.Text.Json.Nodes;

namespace Aggregator.Domain.Fhir.Dstu2.Datatypes;

/// <summary>Coding and CodeableConcept: unchanged structure; code systems get their R4 names.</summary>
internal static class Codes
{
    public static JsonObject Coding(JsonObject source) =>
        ElementBase.From(source)
            .PutText("system", source.Text("system") is { } system ? CodeSystems.ToR4(system) : null)
            .CopyText(source, "version")
            .PutText("code", source.Text("code")?.Trim())
            .CopyPrimitiveExtensions(source, "code")
            .CopyText(source, "display")
            .CopyFlag(source, "userSelected");

    public static JsonObject Concept(JsonObject source) =>
        ElementBase.From(source)
            .ConvertAll(source, "coding", Coding)
            .CopyText(source, "text");

    /// <summary>A CodeableConcept holding one coding that this conversion creates.</summary>
    public static JsonObject Concept(string system, string code, string? display = null) =>
        new() { ["coding"] = new JsonArray(Coding(system, code, display)) };

    public static JsonObject Coding(string system, string code, string? display = null) =>
        new JsonObject { ["system"] = system, ["code"] = code }.PutText("display", display);

    /// <summary>A status CodeableConcept this conversion creates from a DSTU2 status code, with its HL7 display.</summary>
    public static JsonObject? StatusConcept(string system, string? code) => code is null ? null : Concept(system, code, StatusDisplay(code));

    /// <summary>The display of an HL7 status code, as HL7 writes them: "In Progress", "Entered in Error".</summary>
    private static string StatusDisplay(string code) =>
        string.Join(' ', code.Split('-').Select((word, index) =>
            index > 0 && word == "in" ? word : char.ToUpperInvariant(word[0]) + word[1..]));

    /// <summary>A CodeableConcept that only carries text, for DSTU2 strings that R4 made coded.</summary>
    public static JsonObject? TextConcept(string? text) => text is null ? null : new JsonObject { ["text"] = text };
}
