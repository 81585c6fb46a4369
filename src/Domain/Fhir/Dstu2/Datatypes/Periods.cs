using System.Text.Json.Nodes;

namespace Aggregator.Domain.Fhir.Dstu2.Datatypes;

internal static class Periods
{
    public static JsonObject Period(JsonObject source) =>
        ElementBase.From(source)
            .CopyText(source, "start")
            .CopyText(source, "end");
}
