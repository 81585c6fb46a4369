using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Aggregator.Sandbox.Authorization;

/// <summary>The patient portal's two pages, plain HTML forms that work without JavaScript.</summary>
public static class PortalPages
{
    private const string Style =
        "body{font-family:system-ui,sans-serif;background:#f4f6f8;margin:0}main{max-width:28rem;margin:3rem auto;background:#fff;"
        + "padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}label{display:block;margin:.8rem 0 .2rem}"
        + "input[type=text],input[type=password]{width:100%;padding:.5rem;box-sizing:border-box}"
        + "button{margin:1rem .5rem 0 0;padding:.5rem 1.2rem}.error{color:#a00}ul{list-style:none;padding:0}"
        + "li{margin:.4rem 0}code{color:#555;font-size:.85em}";

    private static readonly HtmlEncoder Html = HtmlEncoder.Default;

    public static PortalPage Login(string portal, string appName, string action, string protectedRequest, string? error, string? userName)
    {
        var body = new StringBuilder()
            .Append("<h1>").Append(Html.Encode(portal)).Append("</h1>")
            .Append("<p>Sign in to let <strong>").Append(Html.Encode(appName)).Append("</strong> see your health record.</p>");
        if (error is not null)
        {
            body.Append("<p class=\"error\" role=\"alert\">").Append(Html.Encode(error)).Append("</p>");
        }

        body.Append("<form method=\"post\" action=\"").Append(Html.Encode(action)).Append("\">")
            .Append(Hidden("request", protectedRequest))
            .Append("<label for=\"username\">User ID</label>")
            .Append("<input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\" required value=\"")
            .Append(Html.Encode(userName ?? "")).Append("\">")
            .Append("<label for=\"password\">Password</label>")
            .Append("<input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>")
            .Append("<button type=\"submit\">Sign in</button>")
            .Append("</form>");
        return Page($"{portal}: sign in", body.ToString());
    }

    public static PortalPage Consent(string portal, string appName, string patientName, string action,
        IReadOnlyList<KeyValuePair<string, string>> request, string loginTicket, IReadOnlyList<string> requestedScopes)
    {
        var body = new StringBuilder()
            .Append("<h1>").Append(Html.Encode(portal)).Append("</h1>")
            .Append("<p>Signed in as <strong>").Append(Html.Encode(patientName)).Append("</strong>.</p>")
            .Append("<form method=\"post\" action=\"").Append(Html.Encode(action)).Append("\">");
        foreach (var (name, value) in request)
        {
            body.Append(Hidden(name, value));
        }

        body.Append(Hidden("login_ticket", loginTicket))
            .Append("<p><strong>").Append(Html.Encode(appName)).Append("</strong> asks to:</p><ul>");
        foreach (var scope in requestedScopes.Where(SmartScopes.IsGrantable))
        {
            body.Append("<li><label><input type=\"checkbox\" name=\"granted_scope\" value=\"").Append(Html.Encode(scope)).Append("\" checked> ")
                .Append(Html.Encode(SmartScopes.Describe(scope))).Append(" <code>").Append(Html.Encode(scope)).Append("</code></label></li>");
        }

        body.Append("</ul>");
        var refused = requestedScopes.Where(s => !SmartScopes.IsGrantable(s)).ToList();
        if (refused.Count > 0)
        {
            body.Append("<p>Not available here: <code>").Append(Html.Encode(string.Join(' ', refused))).Append("</code></p>");
        }

        body.Append("<p>Untick anything you do not want to share.</p>")
            .Append("<button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>")
            .Append("<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>")
            .Append("</form>");
        return Page($"{portal}: share your record", body.ToString());
    }

    public static PortalPage Problem(string title, string message, int statusCode) =>
        Page(title, $"<h1>{Html.Encode(title)}</h1><p>{Html.Encode(message)}</p>", statusCode);

    private static string Hidden(string name, string value) =>
        $"<input type=\"hidden\" name=\"{Html.Encode(name)}\" value=\"{Html.Encode(value)}\">";

    private static PortalPage Page(string title, string body, int statusCode = StatusCodes.Status200OK) =>
        new(TypedResults.Content(
            $"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">"
            + $"<title>{Html.Encode(title)}</title><style>{Style}</style></head><body><main>{body}</main></body></html>",
            "text/html; charset=utf-8",
            Encoding.UTF8,
            statusCode));
}

/// <summary>A portal page: HTML that no other site may frame (clickjacking), as real providers' sign-in pages are not.</summary>
public sealed class PortalPage(ContentHttpResult content) : IResult, IStatusCodeHttpResult
{
    public int? StatusCode => content.StatusCode;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        httpContext.Response.Headers.XFrameOptions = "DENY";
        httpContext.Response.Headers.ContentSecurityPolicy = "frame-ancestors 'none'";
        return content.ExecuteAsync(httpContext);
    }
}
