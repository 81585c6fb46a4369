namespace Aggregator.Web.Hosting;

/// <summary>
/// Every response: a strict Content-Security-Policy (our own scripts and styles only, nothing inline, no
/// framing), no referrer (the provider and the partner never learn which page sent the patient), no MIME
/// sniffing, and pages kept out of caches (they show a patient's state).
/// </summary>
public sealed class SecurityHeaders(RequestDelegate next)
{
    // form-action is left open: the page's forms end on each provider's login page and on the partner's return
    // url (https, or a native app's own scheme), which no fixed list can name.
    private const string Policy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; connect-src 'self'; font-src 'self'; " +
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

    public Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = Policy;
        headers["Referrer-Policy"] = "no-referrer";
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()";
        if (!context.Request.Path.StartsWithSegments("/_framework") && !context.Request.Path.StartsWithSegments("/css")
            && !context.Request.Path.StartsWithSegments("/js"))
        {
            headers.CacheControl = "no-store";
        }

        return next(context);
    }
}
