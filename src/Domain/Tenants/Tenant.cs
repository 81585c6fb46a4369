namespace Aggregator.Domain.Tenants;

/// <summary>A partner organisation whose app connects its patients to providers.</summary>
public sealed class Tenant
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    public TenantStatus Status { get; set; } = TenantStatus.Active;

    /// <summary>The name patients see on the hosted Connect page (the tenant's name when unset).</summary>
    public string? DisplayName { get; set; }

    /// <summary>The logo the hosted Connect page shows (https).</summary>
    public string? LogoUrl { get; set; }

    /// <summary>Return urls the connect flow may end on; matched exactly.</summary>
    public List<string> ReturnUrls { get; set; } = [];

    /// <summary>How often each of the tenant's connections is synced.</summary>
    public TimeSpan SyncInterval { get; set; } = TimeSpan.FromHours(24);

    public string? WebhookUrl { get; set; }

    /// <summary>The webhook signing secret, protected (never stored in clear).</summary>
    public string? WebhookSecretProtected { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

public enum TenantStatus
{
    Active,
    Suspended,
}
