using System.Net;
using System.Net.Sockets;
using Aggregator.Domain.Providers;
using Aggregator.Infrastructure.Networking;

namespace Aggregator.Infrastructure.Providers;

/// <summary>
/// Endpoints a provider's discovery document names obey the rules the directory's own endpoints were admitted under.
/// An endpoint on an origin the directory configured for this provider (its FHIR base, or an OAuth endpoint it names)
/// is trusted as configured; any other must be https and resolve only to public addresses, so that a discovery
/// document cannot send patients' codes and tokens over plain http or point us at loopback or the private network.
/// </summary>
public static class DiscoveredEndpointPolicy
{
    /// <summary>Refuses a discovered endpoint that is not https on a public address; returns the origins it checked.</summary>
    public static async Task<IReadOnlySet<string>> RequireAllowedAsync(Provider provider, SmartConfiguration configuration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(configuration);
        var configured = new[] { provider.FhirBaseUrl, provider.AuthorizeUrl, provider.TokenUrl, provider.RevocationUrl, provider.IntrospectionUrl }
            .Select(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) ? Origin(uri) : null)
            .OfType<string>()
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        var named = new (string Name, Uri? Url)[]
        {
            ("authorization endpoint", configuration.AuthorizationEndpoint), ("token endpoint", configuration.TokenEndpoint),
            ("revocation endpoint", configuration.RevocationEndpoint), ("introspection endpoint", configuration.IntrospectionEndpoint),
        };
        var checkedOrigins = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, url) in named)
        {
            if (url is null || configured.Contains(Origin(url)))
            {
                continue;
            }

            if (url.Scheme != Uri.UriSchemeHttps)
            {
                throw new ProviderEndpointRefusedException($"The provider's discovery document names a {name} that is not https; it is not used.");
            }

            var addresses = IPAddress.TryParse(url.IdnHost, out var literal) ? [literal] : await ResolveAsync(url.IdnHost, cancellationToken);
            if (addresses.Length == 0 || !addresses.All(PublicAddresses.IsPublic))
            {
                throw new ProviderEndpointRefusedException($"The provider's discovery document names a {name} on a host that is not a public address; it is not used.");
            }

            checkedOrigins.Add(Origin(url));
        }

        return checkedOrigins;
    }

    private static string Origin(Uri url) => url.GetLeftPart(UriPartial.Authority);

    private static async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        try
        {
            return await Dns.GetHostAddressesAsync(host, cancellationToken);
        }
        catch (SocketException ex)
        {
            throw new ProviderUnreachableException("A host the provider's discovery document names could not be resolved.", ex);
        }
    }
}
