namespace Aggregator.Domain.Providers;

/// <summary>One FHIR base of a provider's Patient Access API (NextGen R4 and NextGen DSTU2 are two).</summary>
public sealed class Provider
{
    public Guid Id { get; set; }

    /// <summary>A stable, human-readable key from the catalog (e.g. <c>nextgen-r4</c>).</summary>
    public required string Slug { get; set; }

    public required string Name { get; set; }
    public required string Brand { get; set; }
    public FhirVersion FhirVersion { get; set; }
    public required string FhirBaseUrl { get; set; }
    public string? Location { get; set; }

    /// <summary>Endpoints as configured or discovered (SMART configuration or the oauth-uris extension).</summary>
    public string? AuthorizeUrl { get; set; }
    public string? TokenUrl { get; set; }
    public string? RevocationUrl { get; set; }
    public string? IntrospectionUrl { get; set; }

    /// <summary>Read scopes asked for, space separated; null means the ones derived from discovery.</summary>
    public string? Scopes { get; set; }

    /// <summary>The sync plan's name (e.g. <c>r4-epic</c>); null means the default plan of its FHIR version.</summary>
    public string? SyncPlan { get; set; }

    /// <summary>Where this entry came from: the catalog file, a brands bundle, or the sandbox.</summary>
    public required string Origin { get; set; }

    public bool Enabled { get; set; } = true;
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

public enum FhirVersion
{
    R4,
    Dstu2,
}
