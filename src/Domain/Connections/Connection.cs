using Aggregator.Domain.Tenants;

namespace Aggregator.Domain.Connections;

/// <summary>One patient's authorised link to one provider endpoint.</summary>
public sealed class Connection : ITenantOwned
{
    public Guid Id { get; set; }
    public Guid TenantId { get; set; }
    public Guid PatientId { get; set; }
    public Guid ProviderId { get; set; }
    public ConnectionStatus Status { get; set; } = ConnectionStatus.Pending;

    /// <summary>The patient's id at the provider, from the token response's <c>patient</c>.</summary>
    public string? ProviderPatientId { get; set; }

    public string? GrantedScopes { get; set; }

    /// <summary>Access token, refresh token and expiries, protected as one blob.</summary>
    public string? TokenSetProtected { get; set; }

    public DateTimeOffset? AccessTokenExpiresAt { get; set; }
    public DateTimeOffset? RefreshTokenExpiresAt { get; set; }
    public DateTimeOffset? NextSyncAt { get; set; }
    public DateTimeOffset? LastSyncAt { get; set; }
    public DateTimeOffset? LastSuccessAt { get; set; }

    /// <summary>The provider's clock at the start of the last successful run (for <c>_lastUpdated</c>).</summary>
    public DateTimeOffset? LastSuccessProviderTime { get; set; }

    /// <summary>When the last full (non-incremental) sync succeeded: it is what finds deletions.</summary>
    public DateTimeOffset? LastFullSyncAt { get; set; }

    public string? LastError { get; set; }

    /// <summary>
    /// When the tenant's backend redeemed the result code of the first binding. Until then the connection
    /// is quarantined: it syncs, but nothing it fetched reaches any read path, event or webhook.
    /// </summary>
    public DateTimeOffset? ConfirmedAt { get; set; }

    /// <summary>SHA-256 of the single-use result code handed out on the return url; null once redeemed.</summary>
    public byte[]? ResultCodeHash { get; set; }

    /// <summary>When the result code was issued: the confirmation window runs from here.</summary>
    public DateTimeOffset? ResultCodeIssuedAt { get; set; }

    /// <summary>The refresh-token expiry a <c>connection.refresh_expiring</c> webhook was sent for (one per expiry).</summary>
    public DateTimeOffset? RefreshExpiryNoticeFor { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>PostgreSQL <c>xmin</c>: optimistic concurrency for status and token changes.</summary>
    public uint RowVersion { get; set; }
}

public enum ConnectionStatus
{
    Pending,

    /// <summary>The provider's login succeeded; the tenant has not redeemed the result code yet.</summary>
    PendingConfirmation,
    Active,
    ReauthRequired,
    Revoked,
    Failed,
}
