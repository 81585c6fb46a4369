using Aggregator.Web.ApiClient;

namespace Aggregator.Web.App;

/// <summary>
/// The companion app's sign-in: the patient session token a partner's backend minted, kept in an http-only cookie
/// (never in a url after <c>/app/start</c>, never in browser storage), and who it speaks for.
/// </summary>
public static class AppSession
{
    public const string CookieName = "agg_session";
    public const string PendingLinkCookie = "agg_pending_link";

    /// <summary>A sign-in link's token, held until the patient confirms whom it signs them in as (<c>/app/welcome</c>).</summary>
    public const string PendingSignInCookie = "agg_pending_session";

    /// <summary>How long a sign-in link waits for the patient's confirmation.</summary>
    public static readonly TimeSpan ConfirmationWindow = TimeSpan.FromMinutes(10);
    public const string Path = "/app";

    public static string? Token(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        return http.Request.Cookies.TryGetValue(CookieName, out var token) && token.Length > 0 ? token : null;
    }

    /// <summary>
    /// Names a sign-in link's token without showing it: the welcome page's form carries it, so that Continue confirms the
    /// record the page showed, not one another link put in the cookie since.
    /// </summary>
    public static string Fingerprint(string token) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)))[..32];

    /// <summary>The token of a sign-in link this browser opened and has not yet confirmed.</summary>
    public static string? PendingToken(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        return http.Request.Cookies.TryGetValue(PendingSignInCookie, out var token) && token.Length > 0 ? token : null;
    }

    public static CookieOptions Cookie(HttpContext http, DateTimeOffset? expires)
    {
        ArgumentNullException.ThrowIfNull(http);
        return new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Lax,
            // Behind a TLS proxy the request may look like http: only a developer's machine sends the cookie in clear.
            Secure = http.Request.IsHttps || !http.RequestServices.GetRequiredService<IWebHostEnvironment>().IsDevelopment(),
            Path = Path,
            Expires = expires,
            IsEssential = true,
        };
    }

    /// <summary>The signed-in patient, or null when there is no token or it no longer works.</summary>
    public static async Task<(string Token, SignedIn Patient)?> CurrentAsync(HttpContext http, AggregatorApi api)
    {
        ArgumentNullException.ThrowIfNull(api);
        if (Token(http) is not { } token)
        {
            return null;
        }

        try
        {
            return (token, await api.SessionAsync(token, http.RequestAborted));
        }
        catch (ApiProblemException problem) when (problem.Status is 401 or 403 or 404)
        {
            return null;
        }
    }

    /// <summary>Where the Connect page sends the patient back to: this app's own page (registered as the tenant's return url).</summary>
    public static Uri ConnectedUrl(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        return new Uri($"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}/app/connected");
    }
}
