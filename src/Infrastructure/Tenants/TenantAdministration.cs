using System.Security.Cryptography;
using Aggregator.Domain.Tenants;
using Aggregator.Infrastructure.Notifications;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Secrets;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Infrastructure.Tenants;

/// <summary>A key as shown once, at creation: the only time the secret exists outside the caller.</summary>
public sealed record IssuedApiKey(Guid KeyId, Guid TenantId, string Prefix, string Key);

/// <summary>A tenant's settings; null leaves a setting as it is.</summary>
public sealed record TenantSettings(IReadOnlyList<string> ReturnUrls, TimeSpan? SyncInterval, Uri? WebhookUrl, string? DisplayName = null, Uri? LogoUrl = null);

/// <summary>Operator work on tenants and their keys (the CLI's verbs). Sees every tenant.</summary>
public sealed class TenantAdministration(
    AggregatorDbContext db, DatabaseNotifications notifications, CredentialRevocations revocations, SecretProtector secrets, TimeProvider clock)
{
    public const string DemoTenantName = "Demo Health";
    public const string DemoKeyName = "demo";

    public Task<(Tenant Tenant, IssuedApiKey Key)> CreateTenantAsync(
        string name, TenantSettings settings, ApiKeyEnvironment environment, CancellationToken cancellationToken) =>
        CreateTenantAsync(name, settings, environment, "tenants create", cancellationToken);

    private async Task<(Tenant Tenant, IssuedApiKey Key)> CreateTenantAsync(
        string name, TenantSettings settings, ApiKeyEnvironment environment, string action, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(settings);
        var tenant = new Tenant
        {
            Id = Guid.CreateVersion7(),
            Name = name.Trim(),
            CreatedAt = clock.GetUtcNow(),
        };
        Apply(tenant, settings);
        db.Tenants.Add(tenant);
        Audit(tenant.Id, action);
        var key = AddKey(tenant.Id, "default", environment);
        await db.SaveChangesAsync(cancellationToken);
        return (tenant, key);
    }

    public async Task<Tenant> UpdateTenantAsync(Guid tenantId, TenantSettings settings, CancellationToken cancellationToken)
    {
        var tenant = await db.Tenants.SingleOrDefaultAsync(t => t.Id == tenantId, cancellationToken)
            ?? throw new TenantNotFoundException(tenantId);
        Apply(tenant, settings);
        Audit(tenantId, "tenants update");
        await db.SaveChangesAsync(cancellationToken);
        return tenant;
    }

    public Task<List<Tenant>> ListTenantsAsync(CancellationToken cancellationToken) =>
        db.Tenants.AsNoTracking().OrderBy(t => t.CreatedAt).ToListAsync(cancellationToken);

    public async Task<IssuedApiKey> CreateKeyAsync(Guid tenantId, string name, ApiKeyEnvironment environment, CancellationToken cancellationToken)
    {
        if (!await db.Tenants.AnyAsync(t => t.Id == tenantId, cancellationToken))
        {
            throw new TenantNotFoundException(tenantId);
        }

        var key = AddKey(tenantId, name, environment);
        await db.SaveChangesAsync(cancellationToken);
        return key;
    }

    /// <summary>A tenant's keys (prefixes and dates, never secrets); looking leaves an audit event too.</summary>
    public async Task<List<ApiKey>> ListKeysAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var keys = await db.ApiKeys.IgnoreQueryFilters().AsNoTracking()
            .Where(k => k.TenantId == tenantId)
            .OrderBy(k => k.CreatedAt)
            .ToListAsync(cancellationToken);
        if (await db.Tenants.AnyAsync(t => t.Id == tenantId, cancellationToken))
        {
            Audit(tenantId, "keys list");
            await db.SaveChangesAsync(cancellationToken);
        }

        return keys;
    }

    /// <summary>Revokes a key by its prefix; every replica forgets it at once.</summary>
    public async Task<bool> RevokeKeyAsync(string prefix, CancellationToken cancellationToken)
    {
        var key = await db.ApiKeys.IgnoreQueryFilters().SingleOrDefaultAsync(k => k.Prefix == prefix && k.RevokedAt == null, cancellationToken);
        if (key is null)
        {
            return false;
        }

        key.RevokedAt = clock.GetUtcNow();
        Audit(key.TenantId, "keys revoke " + key.Prefix);
        await db.SaveChangesAsync(cancellationToken);
        await notifications.PublishAsync(NotificationChannels.ApiKeyRevoked, Convert.ToHexString(key.Hash), cancellationToken);
        return true;
    }

    /// <summary>
    /// Suspends a tenant (its keys, session tokens and link sessions stop working at once on every replica; its
    /// connections stop syncing) or resumes it. False when there is no such tenant.
    /// </summary>
    public async Task<bool> SetStatusAsync(Guid tenantId, TenantStatus status, CancellationToken cancellationToken)
    {
        var tenant = await db.Tenants.SingleOrDefaultAsync(t => t.Id == tenantId, cancellationToken);
        if (tenant is null)
        {
            return false;
        }

        tenant.Status = status;
        Audit(tenantId, status == TenantStatus.Suspended ? "tenants suspend" : "tenants resume");
        await db.SaveChangesAsync(cancellationToken);
        await revocations.TenantChangedAsync(tenantId, cancellationToken);
        return true;
    }

    /// <summary>An operator's command leaves an audit event (actor <c>operator</c>), saved with the change it records.</summary>
    private void Audit(Guid tenantId, string action) => db.AuditEvents.Add(Domain.Auditing.AuditEvent.ByOperator(tenantId, action, clock.GetUtcNow()));

    /// <summary>
    /// The run command's demo tenant: created once, with the given return urls; each call revokes
    /// the previous demo key and issues a fresh one (keys are stored hashed, so an old one cannot be shown again).
    /// </summary>
    public async Task<(Tenant Tenant, IssuedApiKey Key)> EnsureDemoTenantAsync(TenantSettings settings, CancellationToken cancellationToken)
    {
        var tenant = await db.Tenants.FirstOrDefaultAsync(t => t.Name == DemoTenantName, cancellationToken);
        if (tenant is null)
        {
            return await CreateTenantAsync(DemoTenantName, settings, ApiKeyEnvironment.Test, "tenants demo", cancellationToken);
        }

        Apply(tenant, settings with { ReturnUrls = [.. tenant.ReturnUrls.Union(settings.ReturnUrls, StringComparer.Ordinal)] });
        Audit(tenant.Id, "tenants demo");
        var old = await db.ApiKeys.IgnoreQueryFilters()
            .Where(k => k.TenantId == tenant.Id && k.RevokedAt == null)
            .ToListAsync(cancellationToken);
        var now = clock.GetUtcNow();
        foreach (var key in old)
        {
            key.RevokedAt = now;
            Audit(tenant.Id, "keys revoke " + key.Prefix);
        }

        var issued = AddKey(tenant.Id, DemoKeyName, ApiKeyEnvironment.Test);
        await db.SaveChangesAsync(cancellationToken);
        foreach (var key in old)
        {
            await notifications.PublishAsync(NotificationChannels.ApiKeyRevoked, Convert.ToHexString(key.Hash), cancellationToken);
        }

        return (tenant, issued);
    }

    private IssuedApiKey AddKey(Guid tenantId, string name, ApiKeyEnvironment environment)
    {
        var (secret, prefix, hash) = ApiKeySecrets.Generate(environment);
        var key = new ApiKey
        {
            Id = Guid.CreateVersion7(),
            TenantId = tenantId,
            Name = name,
            Prefix = prefix,
            Hash = hash,
            Environment = environment,
            CreatedAt = clock.GetUtcNow(),
        };
        db.ApiKeys.Add(key);
        Audit(tenantId, "keys create " + prefix);
        return new IssuedApiKey(key.Id, tenantId, prefix, secret);
    }

    /// <summary>The tenant's webhook signing secret (<c>whsec_…</c>), made anew when <paramref name="rotate"/>; null without a webhook url.</summary>
    public async Task<string?> WebhookSecretAsync(Guid tenantId, bool rotate, CancellationToken cancellationToken)
    {
        var tenant = await db.Tenants.SingleOrDefaultAsync(t => t.Id == tenantId, cancellationToken) ?? throw new TenantNotFoundException(tenantId);
        if (tenant.WebhookUrl is null)
        {
            return null;
        }

        if (rotate || tenant.WebhookSecretProtected is null)
        {
            tenant.WebhookSecretProtected = NewWebhookSecret();
        }

        // Showing the secret is audited as well as making a new one: whoever holds it can sign events as us.
        Audit(tenantId, rotate ? "tenants webhook-secret --rotate" : "tenants webhook-secret");
        await db.SaveChangesAsync(cancellationToken);

        return secrets.Unprotect(SecretKind.WebhookSecret, tenant.WebhookSecretProtected);
    }

    /// <summary>A Standard Webhooks secret (<c>whsec_</c> + 32 random bytes, base64), encrypted for storage.</summary>
    private string NewWebhookSecret() => secrets.Protect(SecretKind.WebhookSecret, "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));

    private void Apply(Tenant tenant, TenantSettings settings)
    {
        foreach (var url in settings.ReturnUrls)
        {
            ReturnUrls.Validate(url);
        }

        tenant.ReturnUrls = [.. settings.ReturnUrls.Distinct(StringComparer.Ordinal)];
        if (settings.SyncInterval is { } interval)
        {
            if (interval < TimeSpan.FromMinutes(5) || interval > TimeSpan.FromDays(30))
            {
                throw new ArgumentOutOfRangeException(nameof(settings), "The sync interval must be between 5 minutes and 30 days.");
            }

            tenant.SyncInterval = interval;
        }

        if (settings.WebhookUrl is { } webhook)
        {
            if (!webhook.IsAbsoluteUri || !(webhook.Scheme == Uri.UriSchemeHttps || (webhook.Scheme == Uri.UriSchemeHttp && webhook.IsLoopback)) || !string.IsNullOrEmpty(webhook.UserInfo))
            {
                throw new ArgumentException($"'{webhook}' is not a valid webhook url: https is needed (plain http only to loopback), without credentials.", nameof(settings));
            }

            tenant.WebhookUrl = webhook.AbsoluteUri;
            tenant.WebhookSecretProtected ??= NewWebhookSecret();
        }

        if (settings.DisplayName is { } displayName)
        {
            tenant.DisplayName = string.IsNullOrWhiteSpace(displayName) ? null
                : displayName.Trim().Length <= 100 ? displayName.Trim()
                : throw new ArgumentException("The display name is longer than 100 characters.", nameof(settings));
        }

        if (settings.LogoUrl is { } logo)
        {
            if (!logo.IsAbsoluteUri || !(logo.Scheme == Uri.UriSchemeHttps || (logo.Scheme == Uri.UriSchemeHttp && logo.IsLoopback)) || !string.IsNullOrEmpty(logo.UserInfo))
            {
                throw new ArgumentException($"'{logo}' is not a valid logo url: https is needed (plain http only to loopback), without credentials.", nameof(settings));
            }

            tenant.LogoUrl = logo.AbsoluteUri;
        }
    }
}

public sealed class TenantNotFoundException(Guid tenantId) : Exception($"No tenant {tenantId}.");

/// <summary>
/// A return url is absolute with no fragment, and later matched exactly: http(s), or a native app's
/// private-use scheme in reverse-domain form (<c>com.example.app:/connected</c>, RFC 8252 §7.1).
/// </summary>
public static class ReturnUrls
{
    public static void Validate(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)
            || !(uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp || IsPrivateUseScheme(uri.Scheme))
            || !string.IsNullOrEmpty(uri.Fragment))
        {
            throw new ArgumentException($"'{url}' is not a valid return url: an absolute http(s) url, or a reverse-domain app scheme (com.example.app:/path), without a fragment is needed.", nameof(url));
        }
    }

    private static bool IsPrivateUseScheme(string scheme) =>
        scheme.Contains('.', StringComparison.Ordinal) && scheme.Split('.').All(part => part.Length > 0);
}
