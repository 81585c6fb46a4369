using System.Collections.Concurrent;
using Aggregator.Domain.Tenants;
using Aggregator.Infrastructure.Notifications;
using Aggregator.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Infrastructure.Tenants;

/// <summary>The tenant an API key speaks for.</summary>
public sealed record ApiKeyIdentity(Guid KeyId, Guid TenantId, string Prefix);

/// <summary>
/// Answers "whose key is this?" from memory after the first sight of a key, so that a request does
/// not pay a database round trip to authenticate. A revocation is announced with NOTIFY and evicts
/// the key on every replica; entries also expire, in case a notification was missed.
/// Keys that name no tenant are remembered too (a caller retrying a wrong key costs no query), but in a cache bounded
/// in entries (<c>Auth:FailedKeyCacheEntries</c>, default 10,000): a stranger sending endless made-up keys cannot grow
/// our memory. Known keys are bounded by the keys we issued.
/// </summary>
public sealed class ApiKeyAuthenticator : IDisposable
{
    private static readonly TimeSpan EntryLifetime = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<string, (ApiKeyIdentity Identity, DateTimeOffset ExpiresAt)> _cache = new(StringComparer.Ordinal);
    private readonly MemoryCache _failed;
    private readonly IServiceScopeFactory _scopes;
    private readonly ApiKeyUsage _usage;
    private readonly TimeProvider _clock;

    public ApiKeyAuthenticator(IServiceScopeFactory scopes, ApiKeyUsage usage, TimeProvider clock, DatabaseNotifications notifications, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(notifications);
        ArgumentNullException.ThrowIfNull(configuration);
        _scopes = scopes;
        _usage = usage;
        _clock = clock;
        _failed = new MemoryCache(new MemoryCacheOptions { SizeLimit = configuration.GetValue("Auth:FailedKeyCacheEntries", 10_000) });
        notifications.Subscribe(NotificationChannels.ApiKeyRevoked, Evict);
    }

    /// <summary>How many unknown keys are remembered right now.</summary>
    public long FailedEntries => _failed.Count;

    public async Task<ApiKeyIdentity?> AuthenticateAsync(string presentedKey, CancellationToken cancellationToken)
    {
        if (!ApiKeySecrets.LooksLikeKey(presentedKey) || presentedKey.Length > 200)
        {
            return null;
        }

        var hash = Convert.ToHexString(ApiKeySecrets.Hash(presentedKey));
        var now = _clock.GetUtcNow();
        if (_cache.TryGetValue(hash, out var entry) && entry.ExpiresAt > now)
        {
            _usage.Record(entry.Identity.KeyId, now);
            return entry.Identity;
        }

        if (_failed.TryGetValue(hash, out DateTimeOffset failedUntil) && failedUntil > now)
        {
            return null;
        }

        var identity = await LoadAsync(hash, cancellationToken);
        if (identity is null)
        {
            _cache.TryRemove(hash, out _);
            // When the cache is full the entry is simply not kept (and the cache compacts itself).
            _failed.Set(hash, now + EntryLifetime, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = EntryLifetime });
            return null;
        }

        _failed.Remove(hash);
        _cache[hash] = (identity, now + EntryLifetime);
        _usage.Record(identity.KeyId, now);
        return identity;
    }

    public void Dispose() => _failed.Dispose();

    /// <summary>Forget a key (by its hash in hex), or every key when told <c>*</c> (notifications may have been missed).</summary>
    public void Evict(string hashHex)
    {
        if (hashHex == NotificationChannels.Everything)
        {
            _cache.Clear();
            _failed.Clear();
        }
        else
        {
            _cache.TryRemove(hashHex, out _);
            _failed.Remove(hashHex);
        }
    }

    private async Task<ApiKeyIdentity?> LoadAsync(string hashHex, CancellationToken cancellationToken)
    {
        var hash = Convert.FromHexString(hashHex);
        await using var scope = _scopes.CreateAsyncScope();
        // Authentication comes before any tenant is known: a key is found by its hash among every tenant's.
        using var system = scope.ServiceProvider.GetRequiredService<CurrentTenant>().ActAsSystem();
        var db = scope.ServiceProvider.GetRequiredService<AggregatorDbContext>();
        return await db.ApiKeys.IgnoreQueryFilters()
            .Where(k => k.Hash == hash && k.RevokedAt == null)
            .Join(db.Tenants.Where(t => t.Status == TenantStatus.Active), k => k.TenantId, t => t.Id, (k, _) => k)
            .Select(k => new ApiKeyIdentity(k.Id, k.TenantId, k.Prefix))
            .SingleOrDefaultAsync(cancellationToken);
    }
}
