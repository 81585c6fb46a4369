using System.Net;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Core;

namespace Aggregator.Sandbox.Authorization;

/// <summary>
/// Redirect URIs match exactly, except that a registered loopback IP redirect (<c>http://127.0.0.1/cb</c>)
/// accepts any port, as RFC 8252 §7.3 requires: a native or locally run app picks its port at start.
/// </summary>
public sealed class LoopbackRedirectApplicationManager<TApplication>(
    IOpenIddictApplicationCache<TApplication> cache,
    ILogger<OpenIddictApplicationManager<TApplication>> logger,
    IOptionsMonitor<OpenIddictCoreOptions> options,
    IOpenIddictApplicationStore<TApplication> store)
    : OpenIddictApplicationManager<TApplication>(cache, logger, options, store)
    where TApplication : class
{
    public override async ValueTask<bool> ValidateRedirectUriAsync(TApplication application, string uri, CancellationToken cancellationToken = default)
    {
        if (await base.ValidateRedirectUriAsync(application, uri, cancellationToken))
        {
            return true;
        }

        if (!IsLoopbackIp(uri, out var requested))
        {
            return false;
        }

        foreach (var registered in await Store.GetRedirectUrisAsync(application, cancellationToken))
        {
            if (IsLoopbackIp(registered, out var candidate)
                && string.Equals(candidate.Host, requested.Host, StringComparison.OrdinalIgnoreCase)
                && string.Equals(candidate.PathAndQuery, requested.PathAndQuery, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsLoopbackIp(string value, out Uri uri) =>
        Uri.TryCreate(value, UriKind.Absolute, out uri!)
        && uri.Scheme == Uri.UriSchemeHttp
        && string.IsNullOrEmpty(uri.Fragment)
        && IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address)
        && IPAddress.IsLoopback(address);
}
