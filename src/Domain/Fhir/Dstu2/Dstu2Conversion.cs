using System.Text.Json.Nodes;

namespace Aggregator.Domain.Fhir.Dstu2;

/// <summary>The outcome of converting one DSTU2 resource: the R4 resource, or why there is none.</summary>
public sealed record Dstu2Conversion(JsonObject? Resource, string? Error)
{
    public bool Succeeded => Resource is not null;

    internal static Dstu2Conversion Success(JsonObject resource) => new(resource, null);

    internal static Dstu2Conversion Failure(string error) => new(null, error);
}
