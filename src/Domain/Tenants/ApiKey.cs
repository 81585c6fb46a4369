namespace Aggregator.Domain.Tenants;

/// <summary>A tenant credential. Only its prefix (to find it) and a SHA-256 hash (to check it) are kept.</summary>
public sealed class ApiKey : ITenantOwned
{
    public Guid Id { get; set; }
    public Guid TenantId { get; set; }
    public required string Name { get; set; }

    /// <summary>The visible start of the key (e.g. <c>agg_test_3f9a1c2d</c>); unique.</summary>
    public required string Prefix { get; set; }

    public required byte[] Hash { get; set; }
    public ApiKeyEnvironment Environment { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }

    public bool IsRevoked => RevokedAt is not null;
}

public enum ApiKeyEnvironment
{
    Test,
    Live,
}
