using System.Security.Cryptography;
using Aggregator.Domain.Providers;
using Aggregator.Infrastructure.Providers;
using Duende.IdentityModel;
using Duende.IdentityModel.Client;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Aggregator.Infrastructure.Connections;

/// <summary>
/// Talks to a provider's token, revocation and introspection endpoints, authenticating as our
/// client (public, client_secret_basic, or private_key_jwt signed RS384/ES384). Its HttpClient never
/// retries: a retried code exchange or refresh would replay a used code or a rotated-away token.
/// </summary>
public sealed class ProviderTokenClient(IHttpClientFactory http, TimeProvider clock)
{
    public const string HttpClientName = "provider-oauth";

    public Task<TokenResponse> ExchangeCodeAsync(
        SmartConfiguration server, ProviderClient client, string code, string redirectUri, string? codeVerifier, CancellationToken cancellationToken)
    {
        var request = Authenticate(new AuthorizationCodeTokenRequest
        {
            Address = server.TokenEndpoint.AbsoluteUri,
            Code = code,
            RedirectUri = redirectUri,
            CodeVerifier = codeVerifier,
        }, server, client);
        return http.CreateClient(HttpClientName).RequestAuthorizationCodeTokenAsync(request, cancellationToken);
    }

    public Task<TokenResponse> RefreshAsync(SmartConfiguration server, ProviderClient client, string refreshToken, CancellationToken cancellationToken)
    {
        var request = Authenticate(new RefreshTokenRequest
        {
            Address = server.TokenEndpoint.AbsoluteUri,
            RefreshToken = refreshToken,
        }, server, client);
        return http.CreateClient(HttpClientName).RequestRefreshTokenAsync(request, cancellationToken);
    }

    public Task<TokenRevocationResponse> RevokeAsync(SmartConfiguration server, ProviderClient client, string token, string tokenTypeHint, CancellationToken cancellationToken)
    {
        var endpoint = server.RevocationEndpoint ?? throw new InvalidOperationException("The provider has no revocation endpoint.");
        var request = Authenticate(new TokenRevocationRequest
        {
            Address = endpoint.AbsoluteUri,
            Token = token,
            TokenTypeHint = tokenTypeHint,
        }, server, client);
        return http.CreateClient(HttpClientName).RevokeTokenAsync(request, cancellationToken);
    }

    /// <summary>
    /// When a refresh token expires, from the provider's introspection endpoint; null when the provider has
    /// none or does not say. A nicety: a connection works without knowing it.
    /// </summary>
    public async Task<DateTimeOffset?> RefreshTokenExpiryAsync(SmartConfiguration server, ProviderClient client, string? refreshToken, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        if (refreshToken is null || server.IntrospectionEndpoint is null)
        {
            return null;
        }

        try
        {
            var introspection = await IntrospectAsync(server, client, refreshToken, "refresh_token", cancellationToken);
            var exp = introspection.IsActive ? introspection.Claims.FirstOrDefault(c => c.Type == "exp")?.Value : null;
            return long.TryParse(exp, out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    public Task<TokenIntrospectionResponse> IntrospectAsync(SmartConfiguration server, ProviderClient client, string token, string tokenTypeHint, CancellationToken cancellationToken)
    {
        var endpoint = server.IntrospectionEndpoint ?? throw new InvalidOperationException("The provider has no introspection endpoint.");
        var request = Authenticate(new TokenIntrospectionRequest
        {
            Address = endpoint.AbsoluteUri,
            Token = token,
            TokenTypeHint = tokenTypeHint,
        }, server, client);
        return http.CreateClient(HttpClientName).IntrospectTokenAsync(request, cancellationToken);
    }

    private T Authenticate<T>(T request, SmartConfiguration server, ProviderClient client)
        where T : ProtocolRequest
    {
        request.ClientId = client.ClientId;
        if (request.Address is { } address && server.MustBePublic(new Uri(address)))
        {
            request.Options.Set(ProviderAddressPolicy.PublicOnly, true);
        }

        switch (client.Method)
        {
            case ClientAuthenticationMethod.ClientSecretBasic:
                request.ClientSecret = client.Secret ?? throw new InvalidOperationException("The client registration has no secret.");
                request.ClientCredentialStyle = ClientCredentialStyle.AuthorizationHeader;
                break;
            case ClientAuthenticationMethod.PrivateKeyJwt:
                request.ClientAssertion = new ClientAssertion
                {
                    Type = OidcConstants.ClientAssertionTypes.JwtBearer,
                    Value = CreateClientAssertion(client, server.TokenEndpoint.AbsoluteUri),
                };
                request.ClientCredentialStyle = ClientCredentialStyle.PostBody;
                break;
            default:
                // A public client names itself in the body.
                request.ClientCredentialStyle = ClientCredentialStyle.PostBody;
                break;
        }

        return request;
    }

    /// <summary>The key object lives only for one signature, so its signature provider must not be cached.</summary>
    private static readonly CryptoProviderFactory UncachedCrypto = new() { CacheSignatureProviders = false };

    /// <summary>A short-lived JWT signed with our private key (RS384 for RSA keys, ES384 for EC keys).</summary>
    private string CreateClientAssertion(ProviderClient client, string audience)
    {
        var pem = client.Secret ?? throw new InvalidOperationException("The client registration has no private key.");
        var now = clock.GetUtcNow().UtcDateTime;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = client.ClientId,
            Audience = audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddMinutes(4),
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = client.ClientId,
                [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
            },
        };

        var handler = new JsonWebTokenHandler();
        if (pem.Contains("EC PRIVATE KEY", StringComparison.Ordinal) || IsEcKey(pem))
        {
            using var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            descriptor.SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(ec) { KeyId = client.KeyId }, SecurityAlgorithms.EcdsaSha384) { CryptoProviderFactory = UncachedCrypto };
            return handler.CreateToken(descriptor);
        }

        using var rsa = RSA.Create();
        rsa.ImportFromPem(pem);
        descriptor.SigningCredentials = new SigningCredentials(new RsaSecurityKey(rsa) { KeyId = client.KeyId }, SecurityAlgorithms.RsaSha384) { CryptoProviderFactory = UncachedCrypto };
        return handler.CreateToken(descriptor);
    }

    private static bool IsEcKey(string pem)
    {
        try
        {
            using var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            return true;
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            return false;
        }
    }
}
