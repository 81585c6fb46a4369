using Aggregator.Web.ApiClient;

namespace Aggregator.Web.Connect;

/// <summary>
/// The hosted Connect page's plumbing around its page: <c>/connect/start</c> spends the url's single-use link
/// token for the session's credential, keeps that in an http-only cookie scoped to the session's pages and
/// sends the browser on without the token; <c>/connect/{id}/progress</c> feeds the page's progress script.
/// </summary>
public static class ConnectEndpoints
{
    public const string CookieName = "agg_link";

    public static IEndpointRouteBuilder MapConnectEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/connect/start", Start);
        endpoints.MapGet("/connect/{sessionId:guid}/progress", Progress);
        return endpoints;
    }

    /// <summary>The session's credential, from its cookie (null when this browser did not open the session).</summary>
    public static string? Credential(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        return http.Request.Cookies.TryGetValue(CookieName, out var credential) && credential.Length > 0 ? credential : null;
    }

    private static async Task<IResult> Start(string? token, HttpContext http, AggregatorApi api, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(token))
        {
            return TypedResults.Redirect("/connect/invalid");
        }

        OpenedLinkSession opened;
        try
        {
            opened = await api.OpenLinkSessionAsync(token, cancellationToken);
        }
        catch (ApiProblemException)
        {
            return TypedResults.Redirect("/connect/invalid");
        }

        var page = $"/connect/{opened.LinkSessionId}";
        http.Response.Cookies.Append(CookieName, opened.Credential, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Lax,
            Secure = http.Request.IsHttps,
            Path = page,
            Expires = opened.ExpiresAt,
            IsEssential = true,
        });
        return TypedResults.Redirect(page);
    }

    private static async Task<IResult> Progress(Guid sessionId, HttpContext http, AggregatorApi api, CancellationToken cancellationToken)
    {
        if (Credential(http) is not { } credential)
        {
            return TypedResults.NotFound();
        }

        try
        {
            var session = await api.GetLinkSessionAsync(credential, sessionId, cancellationToken);
            return TypedResults.Ok(new
            {
                connections = session.Connections.Select(c => new
                {
                    c.ConnectionId,
                    c.ProviderName,
                    status = ConnectText.Status(c),
                    syncing = c.Syncing,
                    resourcesSoFar = c.Sync?.ResourcesSoFar ?? 0,
                }),
            });
        }
        catch (ApiProblemException problem)
        {
            return TypedResults.StatusCode(problem.Status);
        }
    }
}
