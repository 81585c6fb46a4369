namespace Aggregator.Sandbox.Personas;

public enum FhirVersion
{
    R4,
    Dstu2,
}

/// <summary>What differs between the FHIR versions on the wire.</summary>
public static class FhirVersions
{
    public static string PathSegment(this FhirVersion version) => version == FhirVersion.R4 ? "r4" : "dstu2";

    /// <summary>The name used in configuration and in the test API: <c>R4</c> or <c>DSTU2</c>.</summary>
    public static string DisplayName(this FhirVersion version) => version == FhirVersion.R4 ? "R4" : "DSTU2";

    public static string SpecificationVersion(this FhirVersion version) => version == FhirVersion.R4 ? "4.0.1" : "1.0.2";

    /// <summary>DSTU2 servers answered with the pre-R3 media type.</summary>
    public static string MediaType(this FhirVersion version) =>
        version == FhirVersion.R4 ? "application/fhir+json" : "application/json+fhir";

    public static bool TryParse(string? value, out FhirVersion version)
    {
        switch (value?.ToUpperInvariant())
        {
            case "R4":
                version = FhirVersion.R4;
                return true;
            case "DSTU2":
                version = FhirVersion.Dstu2;
                return true;
            default:
                version = default;
                return false;
        }
    }
}
