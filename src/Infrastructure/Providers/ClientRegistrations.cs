using Aggregator.Domain.Providers;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Secrets;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Infrastructure.Providers;

/// <summary>Our OAuth client at one provider, ready to use (the secret in clear, in memory only).</summary>
public sealed record ProviderClient(string ClientId, ClientAuthenticationMethod Method, string? Secret, string? KeyId, string? Scopes)
{
    /// <summary>Never prints the secret.</summary>
    public override string ToString() => $"{ClientId} ({Method})";
}

/// <summary>Finds the client to use for a tenant at a provider: the tenant's own registration, else the platform default.</summary>
public sealed class ClientRegistrations(AggregatorDbContext db, SecretProtector secrets)
{
    public async Task<ProviderClient?> ResolveAsync(Guid providerId, Guid tenantId, CancellationToken cancellationToken)
    {
        var registration = await db.ClientRegistrations.AsNoTracking()
            .Where(c => c.ProviderId == providerId && (c.TenantId == tenantId || c.TenantId == null))
            .OrderBy(c => c.TenantId == null)
            .FirstOrDefaultAsync(cancellationToken);
        return registration is null
            ? null
            : new ProviderClient(
                registration.ClientId,
                registration.AuthenticationMethod,
                registration.SecretProtected is { } secret ? secrets.Unprotect(SecretKind.ClientSecret, secret) : null,
                registration.KeyId,
                registration.Scopes);
    }
}
