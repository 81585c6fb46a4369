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
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>PostgreSQL <c>xmin</c>: optimistic concurrency for status and token changes.</summary>
    public uint RowVersion { get; set; }
}

public enum ConnectionStatus
{
    Pending,
    Active,
    ReauthRequired,
    Revoked,
    Failed,
}
