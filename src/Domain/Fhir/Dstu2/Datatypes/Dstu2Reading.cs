using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aggregator.Domain.Fhir.Dstu2.Datatypes;

/// <summary>
/// Tolerant reads of DSTU2 JSON: real servers send booleans and numbers as strings, single values where arrays
/// belong and objects where primitives belong. What cannot be read as the element's type reads as absent.
/// </summary>
internal static class Dstu2Reading
{
    /// <summary>A string-valued primitive (string, code, uri, date, dateTime, instant, id…); blank reads as absent.</summary>
    public static string? Text(this JsonObject source, string name) => AsText(source[name]);

    public static bool? Flag(this JsonObject source, string name) => AsFlag(source[name]);

    public static JsonObject? Child(this JsonObject source, string name) => source[name] as JsonObject;

    /// <summary>The objects of a repeating element; a single object where an array belongs counts as one.</summary>
    public static IEnumerable<JsonObject> Children(this JsonObject source, string name) => source[name] switch
    {
        JsonArray array => array.OfType<JsonObject>(),
        JsonObject single => [single],
        _ => [],
    };

    public static IEnumerable<string> Texts(this JsonObject source, string name) => source[name] switch
    {
        JsonArray array => array.Select(AsText).OfType<string>(),
        JsonValue single when AsText(single) is { } text => [text],
        _ => [],
    };

    /// <summary>The one <c>name[x]</c> element present, as its type suffix and value (e.g. <c>DateTime</c>).</summary>
    public static (string Type, JsonNode Value)? Choice(this JsonObject source, string name)
    {
        foreach (var (property, value) in source)
        {
            if (value is not null && property.Length > name.Length && property.StartsWith(name, StringComparison.Ordinal)
                && char.IsUpper(property[name.Length]))
            {
                return (property[name.Length..], value);
            }
        }

        return null;
    }

    public static string? AsText(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String && value.GetValue<string>() is { } text
            && !string.IsNullOrWhiteSpace(text)
            ? text
            : null;

    public static bool? AsFlag(JsonNode? node) => node?.GetValueKind() switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String => bool.TryParse(node.GetValue<string>().Trim(), out var flag) ? flag : null,
        _ => null,
    };

    /// <summary>Numbers are read from their JSON text, so a value built in code reads like one parsed from a server.</summary>
    public static long? AsWholeNumber(JsonNode? node) => node?.GetValueKind() switch
    {
        JsonValueKind.Number when long.TryParse(node.ToJsonString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) => number,
        JsonValueKind.String when long.TryParse(node.GetValue<string>().Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) => number,
        _ => null,
    };

    public static decimal? AsDecimal(JsonNode? node) => node?.GetValueKind() switch
    {
        JsonValueKind.Number when decimal.TryParse(node.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number) => number,
        JsonValueKind.String when decimal.TryParse(node.GetValue<string>().Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number) => number,
        _ => null,
    };
}
