using System.Text.Json.Nodes;

namespace Aggregator.Domain.Fhir.Dstu2.Datatypes;

/// <summary>Quantity and its profiles (SimpleQuantity, Age, Duration, Count, Distance), Range, Ratio, SampledData.</summary>
internal static class Quantities
{
    private static readonly HashSet<string> Comparators = ["<", "<=", ">=", ">"];

    public static JsonObject Quantity(JsonObject source) =>
        ElementBase.From(source)
            .CopyDecimal(source, "value")
            .PutText("comparator", source.Text("comparator") is { } comparator && Comparators.Contains(comparator) ? comparator : null)
            .CopyText(source, "unit")
            .PutText("system", source.Text("system") is { } system ? CodeSystems.ToR4(system) : null)
            .PutText("code", source.Text("code")?.Trim())
            .CopyPrimitiveExtensions(source, "code");

    /// <summary>A SimpleQuantity may not carry a comparator.</summary>
    public static JsonObject Simple(JsonObject source)
    {
        var quantity = Quantity(source);
        quantity.Remove("comparator");
        return quantity;
    }

    /// <summary>DSTU2 Money is a Quantity in a currency system; R4 Money is a value and an ISO 4217 currency.</summary>
    public static JsonObject Money(JsonObject source) =>
        ElementBase.From(source)
            .CopyDecimal(source, "value")
            .PutText("currency", source.Text("system") == "urn:iso:std:iso:4217" ? source.Text("code") : null);

    public static JsonObject Range(JsonObject source) =>
        ElementBase.From(source)
            .ConvertOne(source, "low", Simple)
            .ConvertOne(source, "high", Simple);

    public static JsonObject Ratio(JsonObject source) =>
        ElementBase.From(source)
            .ConvertOne(source, "numerator", Quantity)
            .ConvertOne(source, "denominator", Quantity);

    public static JsonObject SampledData(JsonObject source) =>
        ElementBase.From(source)
            .ConvertOne(source, "origin", Simple)
            .CopyDecimal(source, "period")
            .CopyDecimal(source, "factor")
            .CopyDecimal(source, "lowerLimit")
            .CopyDecimal(source, "upperLimit")
            .CopyWholeNumber(source, "dimensions")
            .CopyText(source, "data");
}
