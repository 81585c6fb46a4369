using Microsoft.Extensions.Options;

namespace Aggregator.Sandbox;

/// <summary>
/// The names the sandbox answers to. A server-to-server caller (an aggregator in a container network) and a patient's
/// browser may reach it at different roots: <c>Sandbox:BaseUrl</c> is the one servers use (token, revocation,
/// introspection, keys, FHIR, and the issuer), <c>Sandbox:PublicBaseUrl</c> the one browsers use (authorize). Unset,
/// both are the root of the request being answered, so the sandbox is whatever host and port it is called at.
/// </summary>
public sealed class SandboxUrls
{
    private readonly string? _server;
    private readonly string? _browser;

    public SandboxUrls(IOptions<SandboxOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _server = Root(options.Value.BaseUrl, nameof(SandboxOptions.BaseUrl));
        _browser = Root(options.Value.PublicBaseUrl, nameof(SandboxOptions.PublicBaseUrl));
        if (_browser is not null && _server is null)
        {
            throw new InvalidOperationException(
                "Sandbox:PublicBaseUrl needs Sandbox:BaseUrl (the root other servers call the sandbox at): the issuer must be one name for both.");
        }
    }

    /// <summary>The configured root servers call, without a trailing slash; null when unset.</summary>
    public string? ConfiguredServerRoot => _server;

    /// <summary>Where servers call: <c>Sandbox:BaseUrl</c>, else the request's root. No trailing slash.</summary>
    public string ServerRoot(HttpRequest request) => _server ?? RequestRoot(request);

    /// <summary>Where browsers go: <c>Sandbox:PublicBaseUrl</c>, else <see cref="ServerRoot"/>. No trailing slash.</summary>
    public string BrowserRoot(HttpRequest request) => _browser ?? ServerRoot(request);

    /// <summary>Every root a URL naming this sandbox may start with: the request's own and the configured ones.</summary>
    public IReadOnlyList<string> Roots(HttpRequest request)
    {
        var roots = new List<string> { RequestRoot(request) };
        foreach (var configured in new[] { _server, _browser })
        {
            if (configured is not null && !roots.Contains(configured, StringComparer.OrdinalIgnoreCase))
            {
                roots.Add(configured);
            }
        }

        return roots;
    }

    /// <summary>The root of the request being answered, as its caller spelled scheme, host and port.</summary>
    public static string RequestRoot(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return $"{request.Scheme}://{request.Host}{request.PathBase}";
    }

    private static string? Root(Uri? url, string name)
    {
        if (url is null)
        {
            return null;
        }

        if (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(url.Query) || !string.IsNullOrEmpty(url.Fragment))
        {
            throw new InvalidOperationException($"Sandbox:{name} must be an absolute http(s) URL without query or fragment.");
        }

        return url.GetLeftPart(UriPartial.Path).TrimEnd('/');
    }
}
