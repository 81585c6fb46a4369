using System.Net;

namespace Aggregator.Api.Operations;

public static class DemoPages
{
    /// <summary>
    /// <c>GET /demo/connected</c>: the demo tenant's return url, which says in plain words how a
    /// connect attempt ended (a partner's own app page plays this part in production).
    /// </summary>
    public static IEndpointRouteBuilder MapDemoPages(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/demo/connected", Connected).ExcludeFromDescription();
        return endpoints;
    }

    private static ContentHttpResult Connected(string? status, string? reason, string? connection_id, string? result_code, string? link_session_id)
    {
        var confirm = link_session_id is null
            ? $"POST /v1/connections/{connection_id}/confirm"
            : $"POST /v1/link-sessions/{link_session_id}/exchange";
        var message = status switch
        {
            "connected" => "Connected. Confirm it with the result code below (your backend's job in production); the first sync has been queued.",
            "completed" => "The patient pressed Done on the Connect page. Exchange the result code below (your backend's job in production) to confirm what was connected.",
            "cancelled" => "The patient cancelled on the Connect page; what it connected was revoked.",
            "denied" => "The patient did not authorise access at the provider.",
            _ => "The connection did not complete.",
        };
        var html = $"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Aggregator demo</title></head>
            <body style="font-family: sans-serif; max-width: 40rem; margin: 3rem auto">
            <h1>{WebUtility.HtmlEncode(message)}</h1>
            <p>status: <code>{WebUtility.HtmlEncode(status ?? "")}</code></p>
            <p>connection: <code>{WebUtility.HtmlEncode(connection_id ?? "")}</code> link session: <code>{WebUtility.HtmlEncode(link_session_id ?? "")}</code></p>
            <p>reason: <code>{WebUtility.HtmlEncode(reason ?? "")}</code></p>
            <p>result code: <code>{WebUtility.HtmlEncode(result_code ?? "")}</code></p>
            <p><code>{WebUtility.HtmlEncode(confirm)}</code> with the result code as <code>resultCode</code> (JSON) and the tenant's key.</p>
            </body></html>
            """;
        return TypedResults.Content(html, "text/html; charset=utf-8");
    }
}
