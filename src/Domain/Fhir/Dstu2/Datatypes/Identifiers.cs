using System.Text.Json.Nodes;

namespace Aggregator.Domain.Fhir.Dstu2.Datatypes;

internal static class Identifiers
{
    private static readonly HashSet<string> Uses = ["usual", "official", "temp", "secondary", "old"];

    public static JsonObject Identifier(JsonObject source) =>
        ElementBase.From(source)
            .PutText("use", source.Text("use") is { } use && Uses.Contains(use) ? use : null)
            .ConvertOne(source, "type", Codes.Concept)
            .CopyText(source, "system")
            .CopyText(source, "value")
            .ConvertOne(source, "period", Periods.Period)
            .ConvertOne(source, "assigner", References.Reference);
}
