namespace Aggregator.Api.Events;

// The `data:` of each event of a patient's stream, for the OpenAPI document (src/Infrastructure writes them).

/// <summary><c>connection.updated</c>: a connection changed status.</summary>
public sealed record ConnectionUpdatedEvent(Guid ConnectionId, Guid ProviderId, string Status, DateTimeOffset? LastSuccessAt, string? LastError);

/// <summary><c>sync.progress</c>: a running sync's counts so far (fetched per resource type).</summary>
public sealed record SyncProgressEvent(Guid ConnectionId, Guid SyncRunId, string? ResourceType, int ResourcesSoFar, IReadOnlyDictionary<string, int> Types);

/// <summary><c>sync.finished</c>: a sync ended (<c>succeeded</c>, <c>partial</c>, <c>failed</c>).</summary>
public sealed record SyncFinishedEvent(Guid ConnectionId, Guid SyncRunId, string Status, string? Error, int ResourcesSoFar, long RecordVersion);

/// <summary><c>record.updated</c>: the merged record has a new version.</summary>
public sealed record RecordUpdatedEvent(long RecordVersion, DateTimeOffset UpdatedAt, int Changed);

/// <summary><c>reset</c>: the client asked to resume from further back than events are kept; re-read the state.</summary>
public sealed record ResetEvent(long LastEventId);
