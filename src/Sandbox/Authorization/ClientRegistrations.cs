using System.Text.Json;
using Aggregator.Sandbox.Health;
using Aggregator.Sandbox.Personas;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Aggregator.Sandbox.Authorization;

/// <summary>
/// Creates the OAuth store and registers (or updates) every persona's configured clients at start, so the
/// documented client ids always work, also against a store file kept from an earlier run.
/// </summary>
public sealed partial class ClientRegistrations(IServiceScopeFactory scopes, PersonaCatalog personas, SandboxReadiness readiness,
    ILogger<ClientRegistrations> logger) : BackgroundService
{
    public const string StepName = "OAuth clients";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<OAuthStoreContext>().Database.EnsureCreatedAsync(stoppingToken);
            var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
            foreach (var persona in personas.All)
            {
                foreach (var client in persona.Options.Clients)
                {
                    var descriptor = Describe(persona, client);
                    if (await applications.FindByClientIdAsync(client.ClientId, stoppingToken) is { } existing)
                    {
                        await applications.UpdateAsync(existing, descriptor, stoppingToken);
                    }
                    else
                    {
                        await applications.CreateAsync(descriptor, stoppingToken);
                    }
                }
            }

            readiness.Completed(StepName);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            LogFailed(logger, exception);
            readiness.Failed(StepName);
        }
    }

    private static OpenIddictApplicationDescriptor Describe(Persona persona, ClientRegistrationOptions client)
    {
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = client.ClientId,
            DisplayName = client.DisplayName.Length > 0 ? client.DisplayName : client.ClientId,
            ConsentType = ConsentTypes.Explicit,
            Permissions =
            {
                Permissions.Endpoints.Authorization, Permissions.Endpoints.Token, Permissions.Endpoints.Revocation,
                Permissions.Endpoints.Introspection, Permissions.GrantTypes.AuthorizationCode,
                Permissions.GrantTypes.RefreshToken, Permissions.ResponseTypes.Code,
            },
        };
        descriptor.Properties[OAuthEndpoints.PersonaProperty] = JsonSerializer.SerializeToElement(persona.Name);
        foreach (var uri in client.RedirectUris)
        {
            descriptor.RedirectUris.Add(new Uri(uri, UriKind.Absolute));
        }

        switch (client.Authentication)
        {
            case "none":
                descriptor.ClientType = ClientTypes.Public;
                break;
            case "client_secret_basic":
                descriptor.ClientType = ClientTypes.Confidential;
                descriptor.ClientSecret = client.Secret
                    ?? throw new InvalidOperationException($"Client {client.ClientId} uses client_secret_basic but has no Secret.");
                break;
            case "private_key_jwt":
                descriptor.ClientType = ClientTypes.Confidential;
                var jwks = client.JwksFile
                    ?? throw new InvalidOperationException($"Client {client.ClientId} uses private_key_jwt but has no JwksFile.");
                descriptor.JsonWebKeySet = JsonWebKeySet.Create(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, jwks)));
                break;
            default:
                throw new InvalidOperationException($"Client {client.ClientId}: unknown Authentication '{client.Authentication}'.");
        }

        return descriptor;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Registering the OAuth clients failed")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
