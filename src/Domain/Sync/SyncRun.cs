using Aggregator.Domain.Tenants;

namespace Aggregator.Domain.Sync;

/// <summary>One sync of one connection.</summary>
public sealed class SyncRun : ITenantOwned
{
    public Guid Id { get; set; }
    public Guid TenantId { get; set; }
    public Guid ConnectionId { get; set; }
    public SyncRunStatus Status { get; set; } = SyncRunStatus.Queued;
    public SyncTrigger Trigger { get; set; }
    public bool FullSync { get; set; }
    public DateTimeOffset QueuedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>Per resource type: fetched, new, changed, unchanged, deleted, skipped and why (JSON).</summary>
    public string? TypeCounts { get; set; }

    public int Pages { get; set; }
    public long Bytes { get; set; }
    public long? DurationMs { get; set; }
    public string? Error { get; set; }

    /// <summary>The Hangfire job that runs this run (the latest one, after a retry while busy): queued in the same transaction.</summary>
    public string? JobId { get; set; }
}

public enum SyncRunStatus
{
    Queued,
    Running,
    Succeeded,
    Partial,
    Failed,
}

public enum SyncTrigger
{
    Initial,
    Scheduled,
    Manual,
}
