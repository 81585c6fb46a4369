using System.Text.Json.Nodes;
using Aggregator.Domain.Fhir.Dstu2.Datatypes;

namespace Aggregator.Domain.Fhir.Dstu2.Resources;

/// <summary>
/// Device: the udi string → udiCarrier.carrierHRF (the human-readable form), status available/not-available →
/// active/inactive, model → modelNumber, version → version.value, expiry → expirationDate.
/// </summary>
internal sealed class DeviceMapper : IResourceMapper
{
    public string Dstu2Type => "Device";

    public string R4Type => "Device";

    public void Map(JsonObject source, JsonObject target) =>
        target
            .ConvertAll(source, "identifier", Identifiers.Identifier)
            .Append("udiCarrier", source.Text("udi") is { } udi ? new JsonObject { ["carrierHRF"] = udi } : null)
            .PutText("status", Status(source.Text("status")))
            .CopyText(source, "manufacturer")
            .CopyText(source, "manufactureDate")
            .CopyText(source, "expiry", "expirationDate")
            .CopyText(source, "lotNumber")
            .CopyText(source, "model", "modelNumber")
            .ConvertOne(source, "type", Codes.Concept)
            .Append("version", source.Text("version") is { } version ? new JsonObject { ["value"] = version } : null)
            .ConvertOne(source, "patient", References.Reference)
            .ConvertOne(source, "owner", References.Reference)
            .ConvertAll(source, "contact", Demographics.ContactPoint)
            .ConvertOne(source, "location", References.Reference)
            .CopyText(source, "url")
            .ConvertAll(source, "note", Documents.Annotation);

    private static string? Status(string? status) => status switch
    {
        "available" => "active",
        "not-available" => "inactive",
        "entered-in-error" => status,
        _ => null,
    };
}
