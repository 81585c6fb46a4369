using System.Security.Cryptography;
using System.Text;

namespace Aggregator.Domain.Fhir;

/// <summary>
/// How the links a provider writes (paging <c>next</c> links, attachment urls) become addresses we may call, and the
/// id under which we keep a document's content. Relative links are relative to the FHIR base, as FHIR references are;
/// a host-relative link (<c>/Binary/1</c>) that does not already lie under the base's path means the base's own.
/// </summary>
public static class ProviderUrls
{
    /// <summary>The absolute address <paramref name="link"/> names, or null when it names none.</summary>
    public static Uri? Resolve(Uri fhirBase, string? link)
    {
        ArgumentNullException.ThrowIfNull(fhirBase);
        if (string.IsNullOrWhiteSpace(link))
        {
            return null;
        }

        var text = link.Trim();
        var withSlash = fhirBase.AbsoluteUri.EndsWith('/') ? fhirBase : new Uri(fhirBase.AbsoluteUri + "/");
        if (text.StartsWith("//", StringComparison.Ordinal))
        {
            // A network-path reference names another host by design; it resolves as written.
            return Uri.TryCreate(withSlash, text, out var networkPath) ? networkPath : null;
        }

        if (text.StartsWith('/'))
        {
            // Checked before absolute urls: on Unix a rooted path parses as a file url. Only the path part is compared,
            // case-insensitively (servers differ in the case they echo), and the base without its slash counts as the base.
            var basePath = withSlash.AbsolutePath;
            var path = text.Split('?', '#')[0];
            return path.StartsWith(basePath, StringComparison.OrdinalIgnoreCase) || string.Equals(path + "/", basePath, StringComparison.OrdinalIgnoreCase)
                ? Uri.TryCreate(withSlash, text, out var underBase) ? underBase : null
                : Uri.TryCreate(withSlash, text.TrimStart('/'), out var baseRelative) ? baseRelative : null;
        }

        if (Uri.TryCreate(text, UriKind.Absolute, out var absolute))
        {
            // Only web addresses: urn:, cid:, data: and file urls name nothing we fetch.
            return absolute.Scheme is "http" or "https" ? absolute : null;
        }

        return Uri.TryCreate(withSlash, text, out var relative) ? relative : null;
    }

    /// <summary>
    /// The id we keep a document's content under: <c>{id}</c> for a url whose path ends in <c>Binary/{id}</c>
    /// (relative, host-relative or absolute, with or without a query), else a stable id drawn from the url as written,
    /// so that the sync that fetches it and the endpoint that serves it name it alike.
    /// </summary>
    public static string DocumentId(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var text = url.Trim();
        var path = text.Split('?', '#')[0].TrimEnd('/');
        var parts = path.Split('/');
        if (parts.Length >= 2 && parts[^2] == "Binary" && IsFhirId(parts[^1]))
        {
            return parts[^1];
        }

        return "url-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..24];
    }

    private static bool IsFhirId(string id) =>
        id.Length is > 0 and <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.');
}
