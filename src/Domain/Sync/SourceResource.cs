using Aggregator.Domain.Tenants;

namespace Aggregator.Domain.Sync;

/// <summary>One FHIR resource as a provider served it, in R4 form (converted when the source is DSTU2).</summary>
public sealed class SourceResource : ITenantOwned
{
    public long Id { get; set; }
    public Guid TenantId { get; set; }
    public Guid ConnectionId { get; set; }

    /// <summary>The type as the provider named it (e.g. <c>MedicationOrder</c> from DSTU2).</summary>
    public required string ResourceType { get; set; }

    public required string ResourceId { get; set; }

    /// <summary>R4 JSON; null when the resource was malformed and set aside.</summary>
    public string? Resource { get; set; }

    /// <summary>The resource exactly as received when it had to be converted or could not be read.</summary>
    public string? Original { get; set; }

    public string? VersionId { get; set; }
    public DateTimeOffset? LastUpdated { get; set; }
    public required byte[] ContentHash { get; set; }
    public DateTimeOffset FirstSeenAt { get; set; }
    public DateTimeOffset LastSeenAt { get; set; }
    public DateTimeOffset? DeletedAt { get; set; }

    /// <summary>Why the resource could not be used, when it was set aside.</summary>
    public string? Error { get; set; }
}
