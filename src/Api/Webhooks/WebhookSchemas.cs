namespace Aggregator.Api.Webhooks;

// What a tenant's webhook url receives, for the OpenAPI document's `webhooks` (src/Infrastructure/Webhooks writes
// them). Every event is `{ type, timestamp, data }`; data carries ids and states, never clinical content.

public sealed record SyncFinishedWebhook(string Type, DateTimeOffset Timestamp, SyncFinishedWebhookData Data);

/// <summary><c>status</c> is <c>succeeded</c>, <c>partial</c> or <c>failed</c>; <c>recordVersion</c> is the record's version after the run.</summary>
public sealed record SyncFinishedWebhookData(Guid PatientId, string ExternalId, Guid ConnectionId, Guid SyncRunId, string Status, string? Error, long RecordVersion);

public sealed record ConnectionReauthRequiredWebhook(string Type, DateTimeOffset Timestamp, ConnectionReauthRequiredWebhookData Data);

public sealed record ConnectionReauthRequiredWebhookData(Guid PatientId, string ExternalId, Guid ConnectionId, Guid ProviderId, string Reason);

public sealed record ConnectionRefreshExpiringWebhook(string Type, DateTimeOffset Timestamp, ConnectionRefreshExpiringWebhookData Data);

public sealed record ConnectionRefreshExpiringWebhookData(Guid PatientId, string ExternalId, Guid ConnectionId, Guid ProviderId, DateTimeOffset RefreshTokenExpiresAt);

public sealed record LinkSessionExpiredWebhook(string Type, DateTimeOffset Timestamp, LinkSessionExpiredWebhookData Data);

/// <summary><c>opened</c>: whether the patient ever opened the session's url.</summary>
public sealed record LinkSessionExpiredWebhookData(Guid LinkSessionId, Guid PatientId, string ExternalId, bool Opened, DateTimeOffset ExpiredAt);

public sealed record RecordUpdatedWebhook(string Type, DateTimeOffset Timestamp, RecordUpdatedWebhookData Data);

/// <summary><c>changed</c>: how many items were added, changed or removed in this version.</summary>
public sealed record RecordUpdatedWebhookData(Guid PatientId, string ExternalId, long RecordVersion, int Changed);

public sealed record PatientDeletedWebhook(string Type, DateTimeOffset Timestamp, PatientDeletedWebhookData Data);

public sealed record PatientDeletedWebhookData(Guid PatientId, string ExternalId, DateTimeOffset DeletedAt);
