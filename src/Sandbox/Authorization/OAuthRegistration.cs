using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Aggregator.Sandbox.Authorization;

public static class OAuthRegistration
{
    /// <summary>
    /// The authorization server (OpenIddict over its own SQLite store) and the validation of its access tokens
    /// by the FHIR API. Lifetimes come from <c>Sandbox:Tokens</c>.
    /// </summary>
    public static IServiceCollection AddSandboxOAuth(this IServiceCollection services)
    {
        services.AddSingleton<OAuthStore>();
        services.AddSingleton<OAuthKeys>();
        services.AddSingleton<PortalTickets>();
        services.AddDbContext<OAuthStoreContext>((provider, options) => options
            .UseSqlite(provider.GetRequiredService<OAuthStore>().ConnectionString)
            .UseOpenIddict());
        services.AddHostedService<ClientRegistrations>();

        services.AddOpenIddict()
            .AddCore(core =>
            {
                core.UseEntityFrameworkCore().UseDbContext<OAuthStoreContext>();
                core.ReplaceApplicationManager(typeof(LoopbackRedirectApplicationManager<>));
            })
            .AddServer(server =>
            {
                server.SetAuthorizationEndpointUris("oauth/authorize")
                    .SetTokenEndpointUris("oauth/token")
                    .SetRevocationEndpointUris("oauth/revoke")
                    .SetIntrospectionEndpointUris("oauth/introspect")
                    .SetJsonWebKeySetEndpointUris(".well-known/jwks")
                    .SetConfigurationEndpointUris(".well-known/openid-configuration");
                // PKCE (S256 only) is enforced by the portal once the redirect URI is known to be the client's,
                // so that a missing or plain challenge is answered with an error redirect, as RFC 6749 §4.1.2.1 asks.
                server.AllowAuthorizationCodeFlow().AllowRefreshTokenFlow();

                // A used refresh token dies at once; presenting it again revokes the whole grant.
                server.SetRefreshTokenReuseLeeway(TimeSpan.Zero);

                // SMART scopes are open-ended (patient/{Type}.rs); the portal decides what can be granted.
                server.DisableScopeValidation();
                server.IgnoreScopePermissions();

                // Resource servers (and partners' tests) can read the access token, as with real EHRs' JWTs.
                server.DisableAccessTokenEncryption();
                server.AddEventHandler(RevokeGrantWithRefreshToken.Descriptor);
                server.AddEventHandler(SmartClientAssertions.AcceptJwtType);
                server.AddEventHandler(SmartClientAssertions.RestoreTokenType);
                server.AddEventHandler(SmartIntrospection.Descriptor);
                server.AddEventHandler(OnlyS256InDiscovery.Descriptor);
                server.AddEventHandler(BrowserAuthorizeEndpointInDiscovery.Descriptor);
                server.AddEventHandler(Traffic.RememberIssuedGrants.Descriptor);
                server.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableErrorPassthrough()
                    .EnableTokenEndpointPassthrough()
                    .DisableTransportSecurityRequirement();
            })
            .AddValidation(validation =>
            {
                validation.UseLocalServer();
                validation.UseAspNetCore();
                validation.EnableAuthorizationEntryValidation();
                validation.EnableTokenEntryValidation();
            });

        services.AddOptions<OpenIddictServerOptions>().Configure<IOptions<SandboxOptions>, OAuthKeys, SandboxUrls>((server, sandbox, keys, urls) =>
        {
            // One issuer whatever name a request came by (a browser at Sandbox:PublicBaseUrl, a server at Sandbox:BaseUrl), so
            // that the iss of an authorization response (RFC 9207) is the one discovery names; unset, the request's root.
            if (urls.ConfiguredServerRoot is { } root)
            {
                server.Issuer = new Uri(root + "/");
            }

            var lifetimes = sandbox.Value.Tokens;
            server.AccessTokenLifetime = lifetimes.AccessTokenLifetime;
            server.RefreshTokenLifetime = lifetimes.RefreshTokenLifetime;
            server.AuthorizationCodeLifetime = lifetimes.AuthorizationCodeLifetime;
            server.IdentityTokenLifetime = lifetimes.IdentityTokenLifetime;
            server.SigningCredentials.Add(keys.Signing);
            server.EncryptionCredentials.Add(keys.Encryption);

            // Confidential clients authenticate with client_secret_basic or private_key_jwt.
            server.ClientAuthenticationMethods.Remove(ClientAuthenticationMethods.ClientSecretPost);
        });
        return services;
    }
}
