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

    private static ContentHttpResult Connected(string? status, string? reason, string? connection_id)
    {
        var message = status switch
        {
            "connected" => "Connected. The first sync has been queued.",
            "denied" => "The patient did not authorise access at the provider.",
            _ => "The connection did not complete.",
        };
        var html = $"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Aggregator demo</title></head>
            <body style="font-family: sans-serif; max-width: 40rem; margin: 3rem auto">
            <h1>{WebUtility.HtmlEncode(message)}</h1>
            <p>status: <code>{WebUtility.HtmlEncode(status ?? "")}</code></p>
            <p>connection: <code>{WebUtility.HtmlEncode(connection_id ?? "")}</code></p>
            <p>reason: <code>{WebUtility.HtmlEncode(reason ?? "")}</code></p>
            </body></html>
            """;
        return TypedResults.Content(html, "text/html; charset=utf-8");
    }
}
