using Aggregator.Infrastructure.Connections;

namespace Aggregator.Api;

/// <summary>The Api's own public base url: <c>Api:PublicBaseUrl</c> when set (behind a proxy), else the request's.</summary>
internal static class PublicUrls
{
    public static string Base(HttpContext http, ApiPublicOptions options) =>
        options.PublicBaseUrl?.AbsoluteUri.TrimEnd('/') ?? $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}";
}
