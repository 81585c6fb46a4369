using System.CommandLine;
using Aggregator.Api.Tenants;
using Aggregator.Domain.Providers;
using Aggregator.Infrastructure.Providers;

namespace Aggregator.Api.Providers;

/// <summary><c>providers list|import-brands|set-client</c>.</summary>
public static class ProviderCommands
{
    public static Command Create(TenantCommands.ServiceRunner run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var providers = new Command("providers", "The provider directory and our OAuth clients at each provider.");

        var query = new Option<string?>("--q") { Description = "Words that must appear in the name, brand or location." };
        var list = new Command("list", "List directory entries.") { query };
        list.SetAction((parse, cancellationToken) => run(async services =>
        {
            string? cursor = null;
            do
            {
                var page = await services.GetRequiredService<ProviderDirectory>().SearchAsync(parse.GetValue(query), 500, cursor, cancellationToken);
                foreach (var provider in page.Items)
                {
                    await Console.Out.WriteLineAsync($"{provider.Slug,-36} {provider.FhirVersion,-6} {provider.Name}  {provider.FhirBaseUrl}");
                }

                cursor = page.NextCursor;
            }
            while (cursor is not null);
            return 0;
        }));
        providers.Add(list);

        var file = new Argument<FileInfo>("file") { Description = "A SMART User-access Brands Bundle (Organization + Endpoint resources), JSON." };
        var import = new Command("import-brands", "Import a SMART User-access Brands bundle into the directory.") { file };
        import.SetAction((parse, cancellationToken) => run(async services =>
        {
            var path = parse.GetRequiredValue(file);
            if (!path.Exists)
            {
                await Console.Error.WriteLineAsync($"error: no file {path.FullName}");
                return 1;
            }

            await using var stream = path.OpenRead();
            var result = await services.GetRequiredService<BrandsBundleImporter>().ImportAsync(stream, cancellationToken);
            await Console.Out.WriteLineAsync($"Imported {result.Imported} endpoints; skipped {result.Skipped.Count} organisations without a usable endpoint; {result.Collisions.Count} collisions left alone.");
            foreach (var collision in result.Collisions)
            {
                await Console.Out.WriteLineAsync($"  collision: {collision}");
            }

            return 0;
        }));
        providers.Add(import);

        var slug = new Argument<string>("provider") { Description = "The provider's slug, as `providers list` shows it." };
        var clientId = new Option<string>("--client-id") { Description = "Our client id at the provider.", Required = true };
        var auth = new Option<ClientAuthenticationMethod>("--auth") { Description = "None, ClientSecretBasic or PrivateKeyJwt.", DefaultValueFactory = _ => ClientAuthenticationMethod.None };
        var secretFile = new Option<FileInfo?>("--secret-file") { Description = "A file holding the client secret, or the PEM private key for PrivateKeyJwt (RSA: RS384, EC P-384: ES384)." };
        var keyId = new Option<string?>("--key-id") { Description = "The kid of the signing key in the JWKS registered at the provider." };
        var scopes = new Option<string?>("--scopes") { Description = "Read scopes to ask for instead of patient/*.rs (or .read)." };
        var tenant = new Option<Guid?>("--tenant") { Description = "Set this tenant's own client instead of the platform default." };
        var setClient = new Command("set-client", "Register our OAuth client at a provider (the secret is stored encrypted).")
        {
            slug, clientId, auth, secretFile, keyId, scopes, tenant,
        };
        setClient.SetAction((parse, cancellationToken) => run(async services =>
        {
            var administration = services.GetRequiredService<ProviderAdministration>();
            var provider = await administration.FindBySlugAsync(parse.GetRequiredValue(slug), cancellationToken);
            if (provider is null)
            {
                await Console.Error.WriteLineAsync($"error: no provider with slug {parse.GetRequiredValue(slug)}");
                return 1;
            }

            var secret = parse.GetValue(secretFile) is { } secretPath ? (await File.ReadAllTextAsync(secretPath.FullName, cancellationToken)).Trim() : null;
            await administration.SetClientAsync(provider, parse.GetValue(tenant), parse.GetRequiredValue(clientId), parse.GetValue(auth), secret,
                parse.GetValue(keyId), parse.GetValue(scopes), cancellationToken);
            await administration.SaveAsync(cancellationToken);
            await Console.Out.WriteLineAsync($"Client {parse.GetRequiredValue(clientId)} ({parse.GetValue(auth)}) set for {provider.Slug}{(parse.GetValue(tenant) is { } t ? $" (tenant {t})" : " (platform default)")}.");
            return 0;
        }));
        providers.Add(setClient);
        return providers;
    }
}
