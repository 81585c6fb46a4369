using Aggregator.Domain.Providers;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Secrets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aggregator.Infrastructure.Providers;

/// <summary>Writes to the directory: entries (by slug or FHIR base) and OAuth client registrations. Callers save.</summary>
public sealed class ProviderAdministration(AggregatorDbContext db, SecretProtector secrets, IOptions<SandboxDirectoryOptions> sandbox, TimeProvider clock)
{
    /// <summary>Adds or updates the entry with this slug (or, failing that, this FHIR base).</summary>
    public async Task<Provider> UpsertAsync(ProviderEntry entry, string origin, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        RequireSafeUrl(entry.FhirBaseUrl);
        foreach (var url in new[] { entry.AuthorizeUrl, entry.TokenUrl, entry.RevocationUrl, entry.IntrospectionUrl }.OfType<string>())
        {
            RequireSafeUrl(url);
        }

        var now = clock.GetUtcNow();
        var provider = db.Providers.Local.SingleOrDefault(p => p.Slug == entry.Slug || p.FhirBaseUrl == entry.FhirBaseUrl)
            ?? await db.Providers.FirstOrDefaultAsync(p => p.Slug == entry.Slug || p.FhirBaseUrl == entry.FhirBaseUrl, cancellationToken);
        if (provider is null)
        {
            provider = new Provider
            {
                Id = Guid.CreateVersion7(),
                Slug = entry.Slug,
                Name = entry.Name,
                Brand = entry.Brand,
                FhirBaseUrl = entry.FhirBaseUrl,
                Origin = origin,
                CreatedAt = now,
            };
            db.Providers.Add(provider);
        }

        provider.Name = entry.Name;
        provider.Brand = entry.Brand;
        provider.FhirVersion = entry.FhirVersion;
        provider.FhirBaseUrl = entry.FhirBaseUrl;
        provider.AuthorizeUrl = entry.AuthorizeUrl;
        provider.TokenUrl = entry.TokenUrl;
        provider.RevocationUrl = entry.RevocationUrl;
        provider.IntrospectionUrl = entry.IntrospectionUrl;
        provider.Location = entry.Location;
        provider.Scopes = entry.Scopes;
        provider.SyncPlan = entry.SyncPlan;
        provider.Origin = origin;
        provider.UpdatedAt = now;
        return provider;
    }

    /// <summary>
    /// Adds an entry from an import (a brands bundle) without ever changing where an existing entry points: a slug
    /// already used for another FHIR base, or a FHIR base already listed under another slug, is a collision, reported and
    /// left alone. An entry the import finds as it is gets its name, brand, version and location refreshed; its OAuth
    /// endpoints, scopes and sync plan (an operator's settings) are kept.
    /// </summary>
    /// <returns>Null when added or refreshed; else why the entry was skipped.</returns>
    public async Task<string?> ImportAsync(ProviderEntry entry, string origin, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        RequireSafeUrl(entry.FhirBaseUrl);
        var bySlug = db.Providers.Local.SingleOrDefault(p => p.Slug == entry.Slug)
            ?? await db.Providers.FirstOrDefaultAsync(p => p.Slug == entry.Slug, cancellationToken);
        var byBase = db.Providers.Local.FirstOrDefault(p => p.FhirBaseUrl == entry.FhirBaseUrl)
            ?? await db.Providers.FirstOrDefaultAsync(p => p.FhirBaseUrl == entry.FhirBaseUrl, cancellationToken);
        if (bySlug is not null && bySlug.FhirBaseUrl != entry.FhirBaseUrl)
        {
            return $"'{entry.Slug}' already points to another FHIR base; it was not re-pointed.";
        }

        if (byBase is not null && byBase.Slug != entry.Slug)
        {
            return $"{entry.FhirBaseUrl} is already in the directory as '{byBase.Slug}'.";
        }

        if (bySlug is null)
        {
            await UpsertAsync(entry, origin, cancellationToken);
            return null;
        }

        bySlug.Name = entry.Name;
        bySlug.Brand = entry.Brand;
        bySlug.FhirVersion = entry.FhirVersion;
        bySlug.Location = entry.Location ?? bySlug.Location;
        bySlug.UpdatedAt = clock.GetUtcNow();
        return null;
    }

    /// <summary>Sets our OAuth client at a provider: the platform default (no tenant) or one tenant's override.</summary>
    public async Task<ClientRegistration> SetClientAsync(
        Provider provider, Guid? tenantId, string clientId, ClientAuthenticationMethod method, string? secret, string? keyId, string? scopes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentException.ThrowIfNullOrWhiteSpace(clientId);
        if (method != ClientAuthenticationMethod.None && string.IsNullOrEmpty(secret))
        {
            throw new ArgumentException($"A {method} client needs its {(method == ClientAuthenticationMethod.PrivateKeyJwt ? "private key (PEM)" : "secret")}.", nameof(secret));
        }

        var registration = db.ClientRegistrations.Local.SingleOrDefault(c => c.ProviderId == provider.Id && c.TenantId == tenantId)
            ?? await db.ClientRegistrations.SingleOrDefaultAsync(c => c.ProviderId == provider.Id && c.TenantId == tenantId, cancellationToken);
        if (registration is null)
        {
            registration = new ClientRegistration { Id = Guid.CreateVersion7(), ProviderId = provider.Id, TenantId = tenantId, ClientId = clientId, CreatedAt = clock.GetUtcNow() };
            db.ClientRegistrations.Add(registration);
        }

        registration.ClientId = clientId;
        registration.AuthenticationMethod = method;
        registration.SecretProtected = string.IsNullOrEmpty(secret) ? null : secrets.Protect(SecretKind.ClientSecret, secret);
        registration.KeyId = keyId;
        registration.Scopes = scopes;
        if (tenantId is { } tenant)
        {
            // A tenant's own client changes how its patients connect: its trail shows it, saved with the change. (A platform
            // default belongs to no tenant, and the audit trail is kept per tenant.)
            db.AuditEvents.Add(Domain.Auditing.AuditEvent.ByOperator(tenant, "providers set-client " + provider.Slug, clock.GetUtcNow()));
        }

        return registration;
    }

    /// <summary>
    /// Tokens and patient data only travel over https: plain http is allowed for loopback (local
    /// development) and for the configured sandbox, nowhere else.
    /// </summary>
    private void RequireSafeUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            throw new ArgumentException($"'{url}' is not an absolute url.", nameof(url));
        }

        var sandboxRoots = new[] { sandbox.Value.BaseUrl, sandbox.Value.PublicBaseUrl }.OfType<Uri>();
        if (uri.Scheme == Uri.UriSchemeHttps || uri.IsLoopback || sandboxRoots.Any(root => root.IsBaseOf(uri)))
        {
            return;
        }

        throw new ArgumentException($"'{url}' is not https; provider endpoints must be (loopback and the configured sandbox aside).", nameof(url));
    }

    public Task<Provider?> FindBySlugAsync(string slug, CancellationToken cancellationToken) =>
        db.Providers.SingleOrDefaultAsync(p => p.Slug == slug, cancellationToken);

    public Task SaveAsync(CancellationToken cancellationToken) => db.SaveChangesAsync(cancellationToken);
}
