using System.Collections.Concurrent;
using Aggregator.Domain.Tenants;
using Aggregator.Infrastructure.Notifications;
using Aggregator.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Infrastructure.Tenants;

/// <summary>The tenant an API key speaks for.</summary>
public sealed record ApiKeyIdentity(Guid KeyId, Guid TenantId, string Prefix);

/// <summary>
/// Answers "whose key is this?" from memory after the first sight of a key, so that a request does
/// not pay a database round trip to authenticate. A revocation is announced with NOTIFY and evicts
/// the key on every replica; entries also expire, in case a notification was missed.
/// </summary>
public sealed class ApiKeyAuthenticator
{
    private static readonly TimeSpan EntryLifetime = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<string, (ApiKeyIdentity? Identity, DateTimeOffset ExpiresAt)> _cache = new(StringComparer.Ordinal);
    private readonly IServiceScopeFactory _scopes;
    private readonly ApiKeyUsage _usage;
    private readonly TimeProvider _clock;

    public ApiKeyAuthenticator(IServiceScopeFactory scopes, ApiKeyUsage usage, TimeProvider clock, DatabaseNotifications notifications)
    {
        ArgumentNullException.ThrowIfNull(notifications);
        _scopes = scopes;
        _usage = usage;
        _clock = clock;
        notifications.Subscribe(NotificationChannels.ApiKeyRevoked, Evict);
    }

    public async Task<ApiKeyIdentity?> AuthenticateAsync(string presentedKey, CancellationToken cancellationToken)
    {
        if (!ApiKeySecrets.LooksLikeKey(presentedKey) || presentedKey.Length > 200)
        {
            return null;
        }

        var hash = Convert.ToHexString(ApiKeySecrets.Hash(presentedKey));
        var now = _clock.GetUtcNow();
        if (!_cache.TryGetValue(hash, out var entry) || entry.ExpiresAt <= now)
        {
            entry = (await LoadAsync(hash, cancellationToken), now + EntryLifetime);
            _cache[hash] = entry;
        }

        if (entry.Identity is not null)
        {
            _usage.Record(entry.Identity.KeyId, now);
        }

        return entry.Identity;
    }

    /// <summary>Forget a key (by its hash in hex), or every key when told <c>*</c> (notifications may have been missed).</summary>
    public void Evict(string hashHex)
    {
        if (hashHex == NotificationChannels.Everything)
        {
            _cache.Clear();
        }
        else
        {
            _cache.TryRemove(hashHex, out _);
        }
    }

    private async Task<ApiKeyIdentity?> LoadAsync(string hashHex, CancellationToken cancellationToken)
    {
        var hash = Convert.FromHexString(hashHex);
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AggregatorDbContext>();
        return await db.ApiKeys.IgnoreQueryFilters()
            .Where(k => k.Hash == hash && k.RevokedAt == null)
            .Join(db.Tenants.Where(t => t.Status == TenantStatus.Active), k => k.TenantId, t => t.Id, (k, _) => k)
            .Select(k => new ApiKeyIdentity(k.Id, k.TenantId, k.Prefix))
            .SingleOrDefaultAsync(cancellationToken);
    }
}
