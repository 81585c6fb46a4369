using System.Text.Json;
using Aggregator.Domain.Providers;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;

namespace Aggregator.Infrastructure.Providers;

/// <summary>
/// What a FHIR server says about its authorization server. PKCE S256 is always sent, whatever the server lists (SMART
/// App Launch 2 requires it); <paramref name="IssParameterSupported"/> (RFC 9207) makes the <c>iss</c> of the
/// authorization response required.
/// </summary>
public sealed record SmartConfiguration(
    Uri AuthorizationEndpoint,
    Uri TokenEndpoint,
    Uri? RevocationEndpoint,
    Uri? IntrospectionEndpoint,
    string? Issuer,
    IReadOnlyList<string> CodeChallengeMethods,
    IReadOnlyList<string> TokenEndpointAuthMethods,
    IReadOnlyList<string> Capabilities,
    bool IssParameterSupported = false)
{
    /// <summary>
    /// Origins of endpoints that only the discovery document names (not the directory): requests to them connect to
    /// public addresses only (<see cref="ProviderAddressPolicy"/>).
    /// </summary>
    public IReadOnlySet<string> PublicOnlyOrigins { get; init; } = new HashSet<string>();

    /// <summary>Whether a request to <paramref name="endpoint"/> must connect to a public address.</summary>
    public bool MustBePublic(Uri endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return PublicOnlyOrigins.Contains(endpoint.GetLeftPart(UriPartial.Authority));
    }

    /// <summary>SMART v2 scopes (<c>patient/*.rs</c>) when the server advertises them, else v1 (<c>patient/*.read</c>).</summary>
    public bool UseV2Scopes => Capabilities.Contains("permission-v2");
}

/// <summary>
/// Finds a provider's OAuth endpoints: <c>.well-known/smart-configuration</c>, else the
/// CapabilityStatement/Conformance <c>oauth-uris</c> extension (DSTU2 servers). Endpoints the
/// directory configures win over discovered ones; discovered ones must pass <see cref="DiscoveredEndpointPolicy"/>.
/// Results are cached for an hour.
/// </summary>
public sealed partial class SmartDiscovery(IHttpClientFactory http, IMemoryCache cache, ILogger<SmartDiscovery> logger)
{
    public const string HttpClientName = "smart-discovery";
    private const string OAuthUris = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris";
    private static readonly TimeSpan CacheFor = TimeSpan.FromHours(1);

    public async Task<SmartConfiguration> DiscoverAsync(Provider provider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(provider);
        var key = "smart-configuration:" + provider.FhirBaseUrl;
        if (cache.TryGetValue(key, out SmartConfiguration? cached) && cached is not null)
        {
            return cached;
        }

        var discovered = await FetchSmartConfigurationAsync(provider.FhirBaseUrl, cancellationToken)
            ?? await FetchOAuthUrisAsync(provider.FhirBaseUrl, cancellationToken);
        var merged = Merge(provider, discovered);
        var configuration = merged with { PublicOnlyOrigins = await DiscoveredEndpointPolicy.RequireAllowedAsync(provider, merged, cancellationToken) };
        cache.Set(key, configuration, CacheFor);
        return configuration;
    }

    private static SmartConfiguration Merge(Provider provider, SmartConfiguration? discovered)
    {
        var authorize = provider.AuthorizeUrl ?? discovered?.AuthorizationEndpoint.AbsoluteUri;
        var token = provider.TokenUrl ?? discovered?.TokenEndpoint.AbsoluteUri;
        if (authorize is null || token is null)
        {
            throw new ProviderDiscoveryException("The provider advertises no authorize and token endpoints.");
        }

        return new SmartConfiguration(
            new Uri(authorize),
            new Uri(token),
            provider.RevocationUrl is { } revoke ? new Uri(revoke) : discovered?.RevocationEndpoint,
            provider.IntrospectionUrl is { } introspect ? new Uri(introspect) : discovered?.IntrospectionEndpoint,
            discovered?.Issuer,
            discovered?.CodeChallengeMethods ?? [],
            discovered?.TokenEndpointAuthMethods ?? [],
            discovered?.Capabilities ?? [],
            discovered?.IssParameterSupported ?? false);
    }

    private async Task<SmartConfiguration?> FetchSmartConfigurationAsync(string fhirBase, CancellationToken cancellationToken)
    {
        using var document = await GetJsonAsync(new Uri(new Uri(WithSlash(fhirBase)), ".well-known/smart-configuration"), cancellationToken);
        if (document is null)
        {
            return null;
        }

        var root = document.RootElement;
        var authorize = Url(root, "authorization_endpoint");
        var token = Url(root, "token_endpoint");
        if (authorize is null || token is null)
        {
            return null;
        }

        return new SmartConfiguration(
            authorize,
            token,
            Url(root, "revocation_endpoint"),
            Url(root, "introspection_endpoint"),
            root.TryGetProperty("issuer", out var issuer) && issuer.ValueKind == JsonValueKind.String ? issuer.GetString() : null,
            Strings(root, "code_challenge_methods_supported"),
            Strings(root, "token_endpoint_auth_methods_supported"),
            Strings(root, "capabilities"),
            root.TryGetProperty("authorization_response_iss_parameter_supported", out var iss) && iss.ValueKind == JsonValueKind.True);
    }

    private async Task<SmartConfiguration?> FetchOAuthUrisAsync(string fhirBase, CancellationToken cancellationToken)
    {
        using var document = await GetJsonAsync(new Uri(new Uri(WithSlash(fhirBase)), "metadata"), cancellationToken);
        if (document is null || !document.RootElement.TryGetProperty("rest", out var rest) || rest.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        foreach (var entry in rest.EnumerateArray())
        {
            if (!entry.TryGetProperty("security", out var security) || !security.TryGetProperty("extension", out var extensions))
            {
                continue;
            }

            foreach (var extension in extensions.EnumerateArray())
            {
                if (extension.TryGetProperty("url", out var url) && url.GetString() == OAuthUris && extension.TryGetProperty("extension", out var uris))
                {
                    var found = uris.EnumerateArray()
                        .Where(u => u.TryGetProperty("url", out _) && u.TryGetProperty("valueUri", out _))
                        .ToDictionary(u => u.GetProperty("url").GetString()!, u => u.GetProperty("valueUri").GetString()!, StringComparer.Ordinal);
                    if (found.TryGetValue("authorize", out var authorize) && found.TryGetValue("token", out var token))
                    {
                        return new SmartConfiguration(
                            new Uri(authorize), new Uri(token),
                            found.TryGetValue("revoke", out var revoke) ? new Uri(revoke) : null,
                            found.TryGetValue("introspect", out var introspect) ? new Uri(introspect) : null,
                            null, [], [], []);
                    }
                }
            }
        }

        return null;
    }

    private async Task<JsonDocument?> GetJsonAsync(Uri url, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.ParseAdd("application/json");
            request.Headers.Accept.ParseAdd("application/fhir+json");
            request.Headers.Accept.ParseAdd("application/json+fhir");
            using var response = await http.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                LogNotFound(logger, url.AbsolutePath, (int)response.StatusCode);
                return null;
            }

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            return await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new ProviderUnreachableException($"The provider did not answer discovery ({ex.GetType().Name}).", ex);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static Uri? Url(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && Uri.TryCreate(value.GetString(), UriKind.Absolute, out var uri) ? uri : null;

    private static string[] Strings(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? [.. value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!)]
            : [];

    private static string WithSlash(string url) => url.EndsWith('/') ? url : url + "/";

    [LoggerMessage(Level = LogLevel.Debug, Message = "Discovery document {Path} answered {Status}")]
    private static partial void LogNotFound(ILogger logger, string path, int status);
}

public class ProviderDiscoveryException(string message) : Exception(message);

/// <summary>A discovery document named an endpoint we will not send a patient, a code or a token to.</summary>
public sealed class ProviderEndpointRefusedException(string message) : ProviderDiscoveryException(message);

public sealed class ProviderUnreachableException(string message, Exception inner) : Exception(message, inner);
