using Aggregator.Sandbox.Personas;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Aggregator.Sandbox.Faults;

/// <summary>
/// The faults that change the authorization server's state at once: every current access token of a persona (and
/// patient) stops working, or a patient's whole grant is revoked (access and refresh tokens alike).
/// </summary>
public sealed class GrantFaults(IOpenIddictApplicationManager applications, IOpenIddictTokenManager tokens,
    IOpenIddictAuthorizationManager authorizations)
{
    /// <summary>Invalidates the access tokens now; refresh tokens keep working. Returns how many tokens died.</summary>
    public async Task<int> ExpireAccessTokensAsync(Persona persona, string? patientId, CancellationToken cancellationToken)
    {
        var revoked = 0;
        foreach (var applicationId in await ApplicationIdsAsync(persona, cancellationToken))
        {
            foreach (var token in await ValidTokensAsync(patientId, applicationId, cancellationToken))
            {
                var type = await tokens.GetTypeAsync(token, cancellationToken);
                if (type is TokenTypeHints.AccessToken or TokenTypeIdentifiers.AccessToken && await tokens.TryRevokeAsync(token, cancellationToken))
                {
                    revoked++;
                }
            }
        }

        return revoked;
    }

    /// <summary>Revokes the grants (authorizations) and every token under them; a refresh then answers invalid_grant.</summary>
    public async Task<int> RevokeGrantsAsync(Persona persona, string? patientId, CancellationToken cancellationToken)
    {
        var revoked = 0;
        foreach (var applicationId in await ApplicationIdsAsync(persona, cancellationToken))
        {
            var grants = new List<object>();
            await foreach (var authorization in authorizations.FindAsync(patientId, applicationId, Statuses.Valid, type: null, scopes: null, cancellationToken))
            {
                grants.Add(authorization);
            }

            foreach (var authorization in grants)
            {
                if (await authorizations.TryRevokeAsync(authorization, cancellationToken))
                {
                    revoked++;
                }

                if (await authorizations.GetIdAsync(authorization, cancellationToken) is { } authorizationId)
                {
                    await tokens.RevokeByAuthorizationIdAsync(authorizationId, cancellationToken);
                }
            }

            foreach (var token in await ValidTokensAsync(patientId, applicationId, cancellationToken))
            {
                await tokens.TryRevokeAsync(token, cancellationToken);
            }
        }

        return revoked;
    }

    private async Task<List<string>> ApplicationIdsAsync(Persona persona, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        foreach (var client in persona.Options.Clients)
        {
            if (await applications.FindByClientIdAsync(client.ClientId, cancellationToken) is { } application
                && await applications.GetIdAsync(application, cancellationToken) is { } id)
            {
                ids.Add(id);
            }
        }

        return ids;
    }

    private async Task<List<object>> ValidTokensAsync(string? patientId, string applicationId, CancellationToken cancellationToken)
    {
        var found = new List<object>();
        await foreach (var token in tokens.FindAsync(patientId, applicationId, Statuses.Valid, type: null, cancellationToken))
        {
            found.Add(token);
        }

        return found;
    }
}
