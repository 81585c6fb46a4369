using Aggregator.Web.ApiClient;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.App;

/// <summary>
/// The companion app's actions (each a POST with an antiforgery token, answered by a redirect) and what it streams
/// through from the Api: the patient's live events, a document's content, the whole record as a FHIR Bundle.
/// </summary>
public static class AppEndpoints
{
    public static IEndpointRouteBuilder MapAppEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/app/start", Start);
        endpoints.MapPost("/app/start", Confirm);
        endpoints.MapPost("/app/signout", SignOut);
        endpoints.MapPost("/app/connect", Connect);
        endpoints.MapPost("/app/connections/{connectionId:guid}/reconnect", Reconnect);
        endpoints.MapPost("/app/connections/{connectionId:guid}/disconnect", Disconnect);
        endpoints.MapGet("/app/connected", Connected);
        endpoints.MapGet("/app/events", Events);
        endpoints.MapGet("/app/documents/{itemId:guid}", Document);
        endpoints.MapGet("/app/download", Download);
        return endpoints;
    }

    /// <summary>
    /// A sign-in link: the token a partner's backend minted is checked, held in a short-lived cookie (out of the address
    /// bar at once) and not used until the patient confirms, on <c>/app/welcome</c>, the record it opens. A link that
    /// someone else made cannot sign a browser into their record (login CSRF) without its owner seeing whose it is.
    /// </summary>
    private static async Task<IResult> Start(string? session, HttpContext http, AggregatorApi api)
    {
        if (string.IsNullOrWhiteSpace(session))
        {
            return TypedResults.Redirect("/app/signed-out");
        }

        SignedIn patient;
        try
        {
            patient = await api.SessionAsync(session, http.RequestAborted);
        }
        catch (ApiProblemException)
        {
            return TypedResults.Redirect("/app/signed-out");
        }

        var until = DateTimeOffset.UtcNow.Add(AppSession.ConfirmationWindow);
        http.Response.Cookies.Append(AppSession.PendingSignInCookie, session, AppSession.Cookie(http, patient.ExpiresAt < until ? patient.ExpiresAt : until));
        return TypedResults.Redirect("/app/welcome");
    }

    /// <summary>The patient's answer on <c>/app/welcome</c>: continue (the held token becomes the session) or not me.</summary>
    private static async Task<IResult> Confirm(HttpContext http, IAntiforgery antiforgery, AggregatorApi api)
    {
        if (!await antiforgery.IsRequestValidAsync(http))
        {
            return Forged();
        }
        var pending = AppSession.PendingToken(http);
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        if (pending is not null && form["link"] != AppSession.Fingerprint(pending))
        {
            // Another sign-in link was opened since this page was shown: show that one instead.
            return TypedResults.Redirect("/app/welcome");
        }

        http.Response.Cookies.Delete(AppSession.PendingSignInCookie, AppSession.Cookie(http, null));
        if (pending is null || form["decision"] != "continue")
        {
            // Not me: the link is dropped; a session this browser already had goes on.
            return TypedResults.Redirect(AppSession.Token(http) is null ? "/app/signed-out" : "/app");
        }

        SignedIn patient;
        try
        {
            patient = await api.SessionAsync(pending, http.RequestAborted);
        }
        catch (ApiProblemException)
        {
            return TypedResults.Redirect("/app/signed-out");
        }

        http.Response.Cookies.Append(AppSession.CookieName, pending, AppSession.Cookie(http, patient.ExpiresAt));
        return TypedResults.Redirect("/app");
    }

    /// <summary>A form this app did not serve (no antiforgery token: another site posting it) is refused with nothing done.</summary>
    private static BadRequest Forged() => TypedResults.BadRequest();

    private static async Task<IResult> SignOut(HttpContext http, IAntiforgery antiforgery)
    {
        if (!await antiforgery.IsRequestValidAsync(http))
        {
            return Forged();
        }
        http.Response.Cookies.Delete(AppSession.CookieName, AppSession.Cookie(http, null));
        return TypedResults.Redirect("/app/signed-out");
    }

    /// <summary>Connect another provider: a hosted Connect session that comes back to this app.</summary>
    private static Task<IResult> Connect(HttpContext http, IAntiforgery antiforgery, AggregatorApi api) => StartLinkAsync(http, antiforgery, api, null);

    /// <summary>Reconnect one provider: the Connect page in update mode for that connection.</summary>
    private static Task<IResult> Reconnect(Guid connectionId, HttpContext http, IAntiforgery antiforgery, AggregatorApi api) => StartLinkAsync(http, antiforgery, api, connectionId);

    private static async Task<IResult> StartLinkAsync(HttpContext http, IAntiforgery antiforgery, AggregatorApi api, Guid? connectionId)
    {
        if (!await antiforgery.IsRequestValidAsync(http))
        {
            return Forged();
        }
        if (await AppSession.CurrentAsync(http, api) is not { } current)
        {
            return TypedResults.Redirect("/app/signed-out");
        }

        var (id, url) = await api.LinkSessionAsync(current.Token, current.Patient.PatientId, AppSession.ConnectedUrl(http), connectionId, http.RequestAborted);
        // Only the browser that started this session may finish it here (see Connected).
        http.Response.Cookies.Append(AppSession.PendingLinkCookie, id.ToString(), AppSession.Cookie(http, DateTimeOffset.UtcNow.AddMinutes(30)));
        return TypedResults.Redirect(url.AbsoluteUri);
    }

    /// <summary>
    /// The Connect page's return: the app (the tenant's backend, with its key) redeems the result code, but only for
    /// the session this browser started, as the API's binding asks.
    /// </summary>
    private static async Task<IResult> Connected(
        string? link_session_id, string? status, string? result_code, string? reason, HttpContext http, AggregatorApi api, IOptions<WebOptions> options)
    {
        var started = http.Request.Cookies.TryGetValue(AppSession.PendingLinkCookie, out var pending) ? pending : null;
        http.Response.Cookies.Delete(AppSession.PendingLinkCookie, AppSession.Cookie(http, null));
        if (status != "completed" || string.IsNullOrEmpty(result_code))
        {
            return TypedResults.Redirect("/app?connect=" + (status == "cancelled" ? "cancelled" : "failed") + (reason is null ? "" : "&reason=" + Uri.EscapeDataString(reason)));
        }

        if (started is null || !Guid.TryParse(link_session_id, out var sessionId) || started != sessionId.ToString() || options.Value.ApiKey is not { Length: > 0 } key)
        {
            return TypedResults.Redirect("/app?connect=failed");
        }

        var connected = await api.ExchangeAsync(key, sessionId, result_code, http.RequestAborted);
        return TypedResults.Redirect("/app?connect=done&count=" + connected);
    }

    private static async Task<IResult> Disconnect(Guid connectionId, HttpContext http, IAntiforgery antiforgery, AggregatorApi api)
    {
        if (!await antiforgery.IsRequestValidAsync(http))
        {
            return Forged();
        }
        if (AppSession.Token(http) is not { } token)
        {
            return TypedResults.Redirect("/app/signed-out");
        }

        try
        {
            await api.DisconnectAsync(token, connectionId, http.RequestAborted);
        }
        catch (ApiProblemException problem) when (problem.Status is 409 or 429)
        {
            // A sync of it was still writing (or the tenant is busy): it is disconnected, its records not yet deleted.
            return TypedResults.Redirect("/app?disconnected=0");
        }

        return TypedResults.Redirect("/app?disconnected=1");
    }

    /// <summary>The patient's live events, passed through from the Api (same origin for the browser; the token stays here).</summary>
    private static async Task Events(HttpContext http, IHttpClientFactory clients, AggregatorApi api)
    {
        if (await AppSession.CurrentAsync(http, api) is not { } current)
        {
            http.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/patients/{current.Patient.PatientId}/events");
        request.Headers.Authorization = new("Bearer", current.Token);
        if (http.Request.Headers["Last-Event-ID"] is { Count: > 0 } last)
        {
            request.Headers.Add("Last-Event-ID", last.ToString());
        }

        using var upstream = await clients.CreateClient(AggregatorApi.StreamClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, http.RequestAborted);
        http.Response.StatusCode = (int)upstream.StatusCode;
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        await using var body = await upstream.Content.ReadAsStreamAsync(http.RequestAborted);
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await body.ReadAsync(buffer, http.RequestAborted)) > 0)
            {
                await http.Response.Body.WriteAsync(buffer.AsMemory(0, read), http.RequestAborted);
                await http.Response.Body.FlushAsync(http.RequestAborted);
            }
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The browser went away.
        }
    }

    /// <summary>
    /// A document's content, as the Api answers it: the Api decides what may show inline (PDF, images, plain text) and
    /// what only downloads; here it is never sniffed, and a download is sandboxed.
    /// </summary>
    private static Task Document(Guid itemId, HttpContext http, IHttpClientFactory clients, AggregatorApi api) =>
        PassThroughAsync(http, clients, api, patientId => $"v1/patients/{patientId}/documents/{itemId}/content", downloadName: null);

    /// <summary>The whole record as a FHIR R4 Bundle, as a download.</summary>
    private static Task Download(HttpContext http, IHttpClientFactory clients, AggregatorApi api) =>
        PassThroughAsync(http, clients, api, patientId => $"v1/patients/{patientId}/export", downloadName: "my-health-record.json");

    /// <param name="downloadName">Makes the answer a download by this name; without it the Api's own disposition stands.</param>
    private static async Task PassThroughAsync(HttpContext http, IHttpClientFactory clients, AggregatorApi api, Func<Guid, string> path, string? downloadName)
    {
        if (await AppSession.CurrentAsync(http, api) is not { } current)
        {
            http.Response.Redirect("/app/signed-out");
            return;
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, path(current.Patient.PatientId));
        request.Headers.Authorization = new("Bearer", current.Token);
        using var upstream = await clients.CreateClient(AggregatorApi.StreamClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, http.RequestAborted);
        if (!upstream.IsSuccessStatusCode)
        {
            http.Response.StatusCode = (int)upstream.StatusCode;
            return;
        }

        http.Response.ContentType = upstream.Content.Headers.ContentType?.ToString() ?? "application/octet-stream";
        http.Response.Headers.XContentTypeOptions = "nosniff";
        var disposition = downloadName is not null ? $"attachment; filename=\"{downloadName}\"" : upstream.Content.Headers.ContentDisposition?.ToString();
        if (disposition is not null)
        {
            http.Response.Headers.ContentDisposition = disposition;
            http.Response.Headers.ContentSecurityPolicy = "sandbox";
        }

        await upstream.Content.CopyToAsync(http.Response.Body, http.RequestAborted);
    }
}
