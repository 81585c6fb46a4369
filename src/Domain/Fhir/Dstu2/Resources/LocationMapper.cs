using System.Text.Json.Nodes;
using Aggregator.Domain.Fhir.Dstu2.Datatypes;

namespace Aggregator.Domain.Fhir.Dstu2.Resources;

/// <summary>Location: type becomes a list; status, mode, position and the rest are unchanged.</summary>
internal sealed class LocationMapper : IResourceMapper
{
    private static readonly HashSet<string> Statuses = ["active", "suspended", "inactive"];
    private static readonly HashSet<string> Modes = ["instance", "kind"];

    public string Dstu2Type => "Location";

    public string R4Type => "Location";

    public void Map(JsonObject source, JsonObject target) =>
        target
            .ConvertAll(source, "identifier", Identifiers.Identifier)
            .PutText("status", source.Text("status") is { } status && Statuses.Contains(status) ? status : null)
            .CopyText(source, "name")
            .CopyText(source, "description")
            .PutText("mode", source.Text("mode") is { } mode && Modes.Contains(mode) ? mode : null)
            .ConvertAll(source, "type", Codes.Concept)
            .ConvertAll(source, "telecom", Demographics.ContactPoint)
            .ConvertOne(source, "address", Demographics.Address)
            .ConvertOne(source, "physicalType", Codes.Concept)
            .ConvertOne(source, "position", Position)
            .ConvertOne(source, "managingOrganization", References.Reference)
            .ConvertOne(source, "partOf", References.Reference);

    private static JsonObject? Position(JsonObject source) =>
        source["longitude"] is null || source["latitude"] is null
            ? null
            : ElementBase.FromBackbone(source)
                .CopyDecimal(source, "longitude")
                .CopyDecimal(source, "latitude")
                .CopyDecimal(source, "altitude");
}
