using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aggregator.Domain.Fhir.Dstu2.Datatypes;

/// <summary>DSTU2 primitives as R4 JSON values: the wire forms are the same once coerced to the right JSON kind.</summary>
internal static class Primitives
{
    public static JsonValue? Text(JsonNode? node) => Dstu2Reading.AsText(node) is { } text ? JsonValue.Create(text) : null;

    public static JsonValue? Flag(JsonNode? node) => Dstu2Reading.AsFlag(node) is { } flag ? JsonValue.Create(flag) : null;

    public static JsonValue? WholeNumber(JsonNode? node) =>
        Dstu2Reading.AsWholeNumber(node) is { } number and >= int.MinValue and <= int.MaxValue ? JsonValue.Create((int)number) : null;

    /// <summary>A decimal keeps its written precision (1.50 stays 1.50), as FHIR requires.</summary>
    public static JsonNode? Decimal(JsonNode? node) =>
        node?.GetValueKind() == JsonValueKind.Number
            ? node.DeepClone()
            : Dstu2Reading.AsDecimal(node) is { } number ? JsonValue.Create(number) : null;

    /// <summary>Converts a primitive value by its choice-type suffix (<c>Boolean</c>, <c>DateTime</c>…).</summary>
    public static JsonNode? OfType(string typeSuffix, JsonNode? node) => typeSuffix switch
    {
        "Boolean" => Flag(node),
        "Integer" or "PositiveInt" or "UnsignedInt" => WholeNumber(node),
        "Decimal" => Decimal(node),
        "String" or "Code" or "Uri" or "Id" or "Oid" or "Markdown" or "Date" or "DateTime" or "Instant" or "Time"
            or "Base64Binary" => Text(node),
        _ => null,
    };
}
