using System.Text.Json.Nodes;

namespace Aggregator.Domain.Fhir.Dstu2.Datatypes;

/// <summary>Writes R4 elements, leaving out what is absent so the output never carries empty elements.</summary>
internal static class R4Writing
{
    public static JsonObject Put(this JsonObject target, string name, JsonNode? value)
    {
        if (value is not null)
        {
            target[name] = value;
        }

        return target;
    }

    public static JsonObject PutText(this JsonObject target, string name, string? value) =>
        target.Put(name, value is null ? null : JsonValue.Create(value));

    public static JsonObject PutFlag(this JsonObject target, string name, bool? value) =>
        target.Put(name, value is { } flag ? JsonValue.Create(flag) : null);

    public static JsonObject PutAll(this JsonObject target, string name, IEnumerable<JsonNode?> values)
    {
        var present = values.OfType<JsonNode>().ToArray();
        return present.Length == 0 ? target : target.Put(name, new JsonArray(present));
    }

    /// <summary>Adds one item to a repeating element, creating the array on first use.</summary>
    public static JsonObject Append(this JsonObject target, string name, JsonNode? value)
    {
        if (value is null)
        {
            return target;
        }

        if (target[name] is JsonArray array)
        {
            array.Add(value);
            return target;
        }

        return target.Put(name, new JsonArray(value));
    }

    /// <summary>Copies a string-valued primitive, optionally under its R4 name.</summary>
    public static JsonObject CopyText(this JsonObject target, JsonObject source, string name, string? r4Name = null) =>
        target.PutText(r4Name ?? name, source.Text(name)).CopyPrimitiveExtensions(source, name, r4Name);

    public static JsonObject CopyFlag(this JsonObject target, JsonObject source, string name, string? r4Name = null) =>
        target.PutFlag(r4Name ?? name, source.Flag(name)).CopyPrimitiveExtensions(source, name, r4Name);

    public static JsonObject CopyWholeNumber(this JsonObject target, JsonObject source, string name, string? r4Name = null) =>
        target.Put(r4Name ?? name, Primitives.WholeNumber(source[name])).CopyPrimitiveExtensions(source, name, r4Name);

    public static JsonObject CopyDecimal(this JsonObject target, JsonObject source, string name, string? r4Name = null) =>
        target.Put(r4Name ?? name, Primitives.Decimal(source[name])).CopyPrimitiveExtensions(source, name, r4Name);

    /// <summary>
    /// Carries the id and extensions of a primitive (its <c>_name</c> companion): servers hang data there, such as a
    /// patient-friendly text or a data-absent reason.
    /// </summary>
    public static JsonObject CopyPrimitiveExtensions(this JsonObject target, JsonObject source, string name, string? r4Name = null) =>
        target.Put("_" + (r4Name ?? name), source.Child("_" + name) is { } companion ? ElementBase.From(companion) : null);

    public static JsonObject CopyTexts(this JsonObject target, JsonObject source, string name, string? r4Name = null) =>
        target.PutAll(r4Name ?? name, source.Texts(name).Select(text => (JsonNode?)JsonValue.Create(text)));

    /// <summary>Converts a single or repeating complex element with <paramref name="convert"/>, as an R4 array.</summary>
    public static JsonObject ConvertAll(
        this JsonObject target, JsonObject source, string name, Func<JsonObject, JsonNode?> convert, string? r4Name = null) =>
        target.PutAll(r4Name ?? name, source.Children(name).Select(convert));

    /// <summary>Converts a single complex element with <paramref name="convert"/>.</summary>
    public static JsonObject ConvertOne(
        this JsonObject target, JsonObject source, string name, Func<JsonObject, JsonNode?> convert, string? r4Name = null) =>
        target.Put(r4Name ?? name, source.Child(name) is { } child ? convert(child) : null);
}
