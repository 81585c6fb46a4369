using Aggregator.Domain.Tenants;

namespace Aggregator.Domain.Sync;

/// <summary>How one resource type of one connection fares: synced, empty, refused, unsupported or failing, and since when.</summary>
public sealed class CoverageEntry : ITenantOwned
{
    public Guid TenantId { get; set; }
    public Guid ConnectionId { get; set; }
    public required string ResourceType { get; set; }
    public CoverageState State { get; set; }
    public DateTimeOffset Since { get; set; }
    public DateTimeOffset CheckedAt { get; set; }
    public int Count { get; set; }

    /// <summary>Why, when the server refused or failed (status and its OperationOutcome's words).</summary>
    public string? Detail { get; set; }
}

public enum CoverageState
{
    Synced,
    Empty,
    Refused,
    Unsupported,
    Failing,
}
