using System.Text.Json.Nodes;

namespace Aggregator.Domain.Fhir.Dstu2.Datatypes;

/// <summary>What every element carries in both versions: an optional id and extensions.</summary>
internal static class ElementBase
{
    public static JsonObject From(JsonObject source) =>
        new JsonObject()
            .CopyText(source, "id")
            .ConvertAll(source, "extension", Extensions.Convert);

    /// <summary>For backbone elements, which may also carry modifier extensions.</summary>
    public static JsonObject FromBackbone(JsonObject source) =>
        From(source).ConvertAll(source, "modifierExtension", Extensions.Convert);
}
