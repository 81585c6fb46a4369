using System.Text.Json.Nodes;

namespace Aggregator.Domain.Fhir.Dstu2.Datatypes;

/// <summary>
/// Timing: R3 renamed durationUnits/periodUnits to durationUnit/periodUnit, boundsQuantity became boundsDuration
/// and <c>when</c> became repeating.
/// </summary>
internal static class Timings
{
    private static readonly HashSet<string> Units = ["s", "min", "h", "d", "wk", "mo", "a"];

    public static JsonObject Timing(JsonObject source) =>
        ElementBase.From(source)
            .CopyTexts(source, "event")
            .ConvertOne(source, "repeat", Repeat)
            .ConvertOne(source, "code", Codes.Concept);

    private static JsonObject Repeat(JsonObject source) =>
        ElementBase.From(source)
            .ConvertOne(source, "boundsQuantity", Quantities.Quantity, "boundsDuration")
            .ConvertOne(source, "boundsDuration", Quantities.Quantity)
            .ConvertOne(source, "boundsRange", Quantities.Range)
            .ConvertOne(source, "boundsPeriod", Periods.Period)
            .CopyWholeNumber(source, "count")
            .CopyDecimal(source, "duration")
            .CopyDecimal(source, "durationMax")
            .PutText("durationUnit", Unit(source, "durationUnits"))
            .CopyWholeNumber(source, "frequency")
            .CopyWholeNumber(source, "frequencyMax")
            .CopyDecimal(source, "period")
            .CopyDecimal(source, "periodMax")
            .PutText("periodUnit", Unit(source, "periodUnits"))
            .CopyTexts(source, "when");

    private static string? Unit(JsonObject source, string name) =>
        source.Text(name) is { } unit && Units.Contains(unit) ? unit : null;
}
