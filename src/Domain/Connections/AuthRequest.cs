using Aggregator.Domain.Tenants;

namespace Aggregator.Domain.Connections;

/// <summary>An authorize attempt in flight: single use, short lived.</summary>
public sealed class AuthRequest : ITenantOwned
{
    public Guid Id { get; set; }
    public Guid TenantId { get; set; }
    public Guid ConnectionId { get; set; }

    /// <summary>Set when the attempt was started from the hosted Connect page: the callback then ends on that page.</summary>
    public Guid? LinkSessionId { get; set; }

    /// <summary>SHA-256 of the <c>state</c> sent to the provider; the state itself is never stored.</summary>
    public required byte[] StateHash { get; set; }

    public required string PkceVerifierProtected { get; set; }
    public required string ReturnUrl { get; set; }
    public required string RedirectUri { get; set; }

    /// <summary>The issuer (authorization server) the state is bound to.</summary>
    public required string Issuer { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? UsedAt { get; set; }
}
