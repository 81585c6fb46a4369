using Aggregator.Domain.Providers;
using Aggregator.Infrastructure.Persistence;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Aggregator.Infrastructure.Providers;

/// <summary>
/// Keeps the directory in step with the catalog file, the configured platform clients and, when
/// <c>Sandbox:BaseUrl</c> is set, the sandbox's personas. Runs after every migration; idempotent.
/// </summary>
internal sealed class ProviderDirectorySeeder(
    ProviderAdministration directory,
    IOptions<SandboxDirectoryOptions> sandbox,
    IConfiguration configuration) : IDatabaseSeeder
{
    public const string SandboxOrigin = "sandbox";

    public async Task SeedAsync(CancellationToken cancellationToken)
    {
        foreach (var entry in ProviderCatalog.Load())
        {
            await directory.UpsertAsync(entry, ProviderCatalog.Origin, cancellationToken);
        }

        foreach (var (entry, persona) in SandboxEntries())
        {
            var provider = await directory.UpsertAsync(entry, SandboxOrigin, cancellationToken);
            await directory.SetClientAsync(provider, null, persona.ClientId, persona.AuthenticationMethod, persona.ClientSecret, null, null, cancellationToken);
        }

        foreach (var section in configuration.GetSection(ClientRegistrationOptions.Section).GetChildren())
        {
            var options = section.Get<ClientRegistrationOptions>();
            var provider = await directory.FindBySlugAsync(section.Key, cancellationToken);
            if (options is { ClientId.Length: > 0 } && provider is not null)
            {
                await directory.SetClientAsync(provider, null, options.ClientId, options.AuthenticationMethod, options.Secret, options.KeyId, options.Scopes, cancellationToken);
            }
        }

        await directory.SaveAsync(cancellationToken);
    }

    /// <summary>The sandbox's personas as directory entries: one per persona and FHIR version.</summary>
    public IEnumerable<(ProviderEntry Entry, SandboxPersona Persona)> SandboxEntries()
    {
        if (sandbox.Value.BaseUrl is not { } baseUrl)
        {
            yield break;
        }

        var root = baseUrl.AbsoluteUri.TrimEnd('/');
        // Written in the directory, the browser's endpoint is one we were configured with, not one discovery names.
        var authorize = sandbox.Value.PublicBaseUrl is { } publicRoot ? $"{publicRoot.AbsoluteUri.TrimEnd('/')}/oauth/authorize" : null;
        foreach (var persona in sandbox.Value.Personas)
        {
            foreach (var version in persona.FhirVersions)
            {
                var versionPath = version == FhirVersion.R4 ? "r4" : "dstu2";
                var versionName = version == FhirVersion.R4 ? "R4" : "DSTU2";
                yield return (new ProviderEntry(
                    Slug: $"sandbox-{persona.Name}-{versionPath}",
                    Name: $"{persona.DisplayName} sandbox ({versionName})",
                    Brand: persona.Brand,
                    FhirVersion: version,
                    FhirBaseUrl: $"{root}/{persona.Name}/fhir/{versionPath}/",
                    AuthorizeUrl: authorize,
                    Location: "Sandbox",
                    SyncPlan: version == FhirVersion.R4 ? persona.SyncPlan : null), persona);
            }
        }
    }
}
