using Aggregator.Domain.Tenants;

namespace Aggregator.Domain.Events;

/// <summary>
/// One event of a patient's live stream (connection state, sync progress, record versions). Ids come from
/// a per-patient sequence kept in PostgreSQL, so every Api replica numbers and resumes a stream alike.
/// </summary>
public sealed class PatientEvent : ITenantOwned
{
    public Guid PatientId { get; set; }

    /// <summary>The event's id in the patient's stream (1, 2, 3, ...).</summary>
    public long Sequence { get; set; }

    public Guid TenantId { get; set; }

    /// <summary><c>connection.updated</c>, <c>sync.progress</c>, <c>sync.finished</c> or <c>record.updated</c>.</summary>
    public required string Type { get; set; }

    /// <summary>The event's data (JSON): ids, states and counts, never clinical content.</summary>
    public required string Data { get; set; }

    public DateTimeOffset OccurredAt { get; set; }
}

/// <summary>The event types of a patient's stream.</summary>
public static class PatientEventTypes
{
    public const string ConnectionUpdated = "connection.updated";
    public const string SyncProgress = "sync.progress";
    public const string SyncFinished = "sync.finished";
    public const string RecordUpdated = "record.updated";
}
