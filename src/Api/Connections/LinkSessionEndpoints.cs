using Microsoft.EntityFrameworkCore;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Api.Auditing;
using System.Security.Claims;
using Aggregator.Api.Authentication;
using Aggregator.Infrastructure.Connections;
using Aggregator.Infrastructure.Hosting;
using Microsoft.Extensions.Options;

namespace Aggregator.Api.Connections;

/// <summary>
/// Hosted Connect sessions: the partner creates one and sends the patient to its url; the page (src/Web)
/// opens it with the url's link token and works with the credential it gets back; Done's result code is
/// exchanged by the partner's backend, confirming every connection the session made.
/// </summary>
public static class LinkSessionEndpoints
{
    public static IEndpointRouteBuilder MapLinkSessionEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapPost("/v1/patients/{patientId:guid}/link-sessions", Create)
            .WithName("createLinkSession")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithTags("Connect")
            .RequireAuthorization(AuthenticationSetup.PatientOrTenantPolicy)
            .WithSummary("Start a hosted Connect session for a patient")
            .WithDescription("`returnUrl` must be one of your registered return urls (matched exactly). With `connectionId` the page re-authorises that connection (update mode). Send the patient's browser to `url` (valid 30 minutes, opens once). The page ends on `returnUrl` with `link_session_id` and `status` (`completed` with `result_code`, `cancelled`, or `error` with `reason`).");

        var sessions = endpoints.MapGroup("/v1/link-sessions").WithTags("Connect");
        sessions.MapPost("/open", Open)
            .WithName("openLinkSession")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .AllowAnonymous()
            .WithSummary("The Connect page spends the url's link token for its session credential (once)");
        sessions.MapGet("/{linkSessionId:guid}", Get)
            .WithName("getLinkSession")
            .RequireAuthorization(AuthenticationSetup.DirectoryPolicy)
            .WithSummary("A link session: who asks, its mode, and each connection's state and first-sync progress");
        sessions.MapPost("/{linkSessionId:guid}/consent", Consent)
            .WithName("acceptDataUseStatement")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireAuthorization(AuthenticationSetup.LinkSessionPolicy)
            .WithSummary("The patient accepted the data-use statement");
        sessions.MapPost("/{linkSessionId:guid}/connections", StartConnection)
            .Audited()
            .WithName("startLinkSessionConnection")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status502BadGateway)
            .RequireAuthorization(AuthenticationSetup.LinkSessionPolicy)
            .WithSummary("Start a provider's login from the Connect page (in update mode: re-authorise the session's connection)");
        sessions.MapPost("/{linkSessionId:guid}/complete", Complete)
            .WithName("completeLinkSession")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireAuthorization(AuthenticationSetup.LinkSessionPolicy)
            .WithSummary("Done: where to send the patient (the return url with a result code)");
        sessions.MapPost("/{linkSessionId:guid}/cancel", Cancel)
            .Audited()
            .WithName("cancelLinkSession")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireAuthorization(AuthenticationSetup.LinkSessionPolicy)
            .WithSummary("Cancel (or end on an error with `reason`): revokes what the session connected; where to send the patient");
        sessions.MapPost("/{linkSessionId:guid}/exchange", Exchange)
            .Audited()
            .WithName("exchangeLinkSessionCode")
            .RequireAuthorization(AuthenticationSetup.TenantPolicy)
            .WithSummary("Exchange Done's result code: confirms every connection the session made")
            .WithDescription("Single use, within `Connect:ConfirmationWindow` (15 minutes) of Done. Redeem it from the session of the user who started the flow.");
        return endpoints;
    }

    private static async Task<Results<Created<LinkSessionResponse>, ProblemHttpResult>> Create(
        Guid patientId, CreateLinkSessionRequest? body, HttpContext http, LinkSessions sessions, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(body?.ReturnUrl))
        {
            return TypedResults.Problem(title: "returnUrl is required", statusCode: StatusCodes.Status400BadRequest, type: ProblemTypes.Validation);
        }

        if (!PatientAccess.Allows(http.User, patientId))
        {
            return ApiProblems.PatientNotFound();
        }

        return await Run(async () =>
        {
            var created = await sessions.CreateAsync(patientId, body.ReturnUrl, body.ConnectionId, cancellationToken);
            return TypedResults.Created($"/v1/link-sessions/{created.Id}", new LinkSessionResponse(created.Id, created.Url.AbsoluteUri, created.ExpiresAt));
        });
    }

    private static async Task<Results<Ok<OpenLinkSessionResponse>, ProblemHttpResult>> Open(
        OpenLinkSessionRequest? body, LinkSessions sessions, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(body?.Token))
        {
            return TypedResults.Problem(title: "token is required", statusCode: StatusCodes.Status400BadRequest, type: ProblemTypes.Validation);
        }

        return await Run(async () =>
        {
            var opened = await sessions.OpenAsync(body.Token, cancellationToken);
            return TypedResults.Ok(new OpenLinkSessionResponse(opened.LinkSessionId, opened.Credential, opened.ExpiresAt));
        });
    }

    private static async Task<Results<Ok<LinkSessionView>, ProblemHttpResult>> Get(
        Guid linkSessionId, HttpContext http, LinkSessions sessions, CancellationToken cancellationToken)
    {
        // The tenant's key reads any of its sessions; the page only its own; a patient's session token none.
        var allowed = http.User.FindFirstValue(ApiClaims.ActorType) == ApiClaims.ActorApiKey || OwnSession(http.User, linkSessionId);
        return allowed
            ? await Run(async () => TypedResults.Ok(await sessions.GetAsync(linkSessionId, cancellationToken)))
            : SessionNotFound();
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Consent(
        Guid linkSessionId, HttpContext http, LinkSessions sessions, CancellationToken cancellationToken) =>
        OwnSession(http.User, linkSessionId)
            ? await Run(async () =>
            {
                await sessions.ConsentAsync(linkSessionId, cancellationToken);
                return TypedResults.NoContent();
            })
            : SessionNotFound();

    private static async Task<Results<Created<ConnectResponse>, ProblemHttpResult>> StartConnection(
        Guid linkSessionId, StartLinkConnectionRequest? body, HttpContext http, LinkSessions sessions, IOptions<ApiPublicOptions> publicOptions,
        CancellationToken cancellationToken)
    {
        if (!OwnSession(http.User, linkSessionId))
        {
            return SessionNotFound();
        }

        try
        {
            var start = await sessions.StartConnectionAsync(linkSessionId, body?.ProviderId ?? Guid.Empty,
                new Uri(PublicUrls.Base(http, publicOptions.Value) + ConnectionEndpoints.CallbackPath), cancellationToken);
            return TypedResults.Created($"/v1/connections/{start.ConnectionId}", new ConnectResponse(start.ConnectionId, start.AuthorizeUrl.AbsoluteUri, start.ExpiresAt));
        }
        catch (ConnectRefusedException refused)
        {
            return ConnectProblems.For(refused);
        }
        catch (LinkSessionRefusedException refused)
        {
            return For(refused);
        }
    }

    private static async Task<Results<Ok<LinkSessionOutcome>, ProblemHttpResult>> Complete(
        Guid linkSessionId, HttpContext http, LinkSessions sessions, CancellationToken cancellationToken) =>
        OwnSession(http.User, linkSessionId)
            ? await Run(async () => TypedResults.Ok(new LinkSessionOutcome((await sessions.CompleteAsync(linkSessionId, cancellationToken)).AbsoluteUri)))
            : SessionNotFound();

    private static async Task<Results<Ok<LinkSessionOutcome>, ProblemHttpResult>> Cancel(
        Guid linkSessionId, CancelLinkSessionRequest? body, HttpContext http, LinkSessions sessions, CancellationToken cancellationToken) =>
        OwnSession(http.User, linkSessionId)
            ? await Run(async () => TypedResults.Ok(new LinkSessionOutcome((await sessions.CancelAsync(linkSessionId, body?.Reason, cancellationToken)).AbsoluteUri)))
            : SessionNotFound();

    private static async Task<Results<Ok<ExchangeResponse>, ProblemHttpResult>> Exchange(
        Guid linkSessionId, ExchangeRequest? body, HttpContext http, AggregatorDbContext db, LinkSessions sessions, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(body?.ResultCode))
        {
            return TypedResults.Problem(title: "resultCode is required", detail: "Send the result_code from the return url: { \"resultCode\": \"...\" }.",
                statusCode: StatusCodes.Status400BadRequest, type: ProblemTypes.Validation);
        }

        // Whose connections the exchange confirms, for its audit event.
        http.Items[AuditEndpoints.PatientItem] = await db.LinkSessions.Where(l => l.Id == linkSessionId).Select(l => (Guid?)l.PatientId).SingleOrDefaultAsync(cancellationToken);
        return await Run(async () => TypedResults.Ok(new ExchangeResponse(await sessions.ExchangeAsync(linkSessionId, body.ResultCode, cancellationToken))));
    }

    private static bool OwnSession(ClaimsPrincipal user, Guid linkSessionId) =>
        user.FindFirstValue(ApiClaims.ActorType) == ApiClaims.ActorLinkSession
        && Guid.TryParse(user.FindFirstValue(ApiClaims.LinkSessionId), out var own) && own == linkSessionId;

    /// <summary>Runs a step of the session; a refusal becomes its problem.</summary>
    private static async Task<Results<T, ProblemHttpResult>> Run<T>(Func<Task<T>> step) where T : IResult
    {
        try
        {
            return await step();
        }
        catch (LinkSessionRefusedException refused)
        {
            return For(refused);
        }
    }

    private static ProblemHttpResult SessionNotFound() => TypedResults.Problem(
        title: "Link session not found", detail: "No link session with this id exists for this credential.",
        statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound);

    private static ProblemHttpResult For(LinkSessionRefusedException refused) => refused.Refusal switch
    {
        LinkSessionRefusal.PatientNotFound => ApiProblems.PatientNotFound(),
        LinkSessionRefusal.ConnectionNotFound => ApiProblems.ConnectionNotFound(),
        LinkSessionRefusal.SessionNotFound => SessionNotFound(),
        LinkSessionRefusal.ReturnUrlNotRegistered => TypedResults.Problem(title: "Return url not registered", detail: refused.Message,
            statusCode: StatusCodes.Status400BadRequest, type: ProblemTypes.ReturnUrlNotRegistered),
        LinkSessionRefusal.InvalidReason => TypedResults.Problem(title: "Unknown reason", detail: refused.Message,
            statusCode: StatusCodes.Status400BadRequest, type: ProblemTypes.Validation),
        LinkSessionRefusal.InvalidResultCode => TypedResults.Problem(title: "Invalid result code", detail: refused.Message,
            statusCode: StatusCodes.Status400BadRequest, type: ProblemTypes.InvalidResultCode),
        LinkSessionRefusal.InvalidLinkToken => TypedResults.Problem(title: "Invalid link", detail: refused.Message,
            statusCode: StatusCodes.Status401Unauthorized, type: ProblemTypes.InvalidLinkToken),
        LinkSessionRefusal.NotConfigured => TypedResults.Problem(title: "Hosted Connect not configured", detail: refused.Message,
            statusCode: StatusCodes.Status503ServiceUnavailable, type: ProblemTypes.Unavailable),
        LinkSessionRefusal.ConsentRequired => TypedResults.Problem(title: "Data-use statement not accepted", detail: refused.Message,
            statusCode: StatusCodes.Status409Conflict, type: ProblemTypes.Conflict),
        _ => TypedResults.Problem(title: "Link session ended", detail: refused.Message,
            statusCode: StatusCodes.Status409Conflict, type: ProblemTypes.LinkSessionClosed),
    };
}

public sealed record CreateLinkSessionRequest(string? ReturnUrl, Guid? ConnectionId = null);

public sealed record LinkSessionResponse(Guid Id, string Url, DateTimeOffset ExpiresAt);

public sealed record OpenLinkSessionRequest(string? Token);

/// <summary><c>credential</c> authenticates the page's later calls (<c>Authorization: Bearer</c>) until <c>expiresAt</c>.</summary>
public sealed record OpenLinkSessionResponse(Guid LinkSessionId, string Credential, DateTimeOffset ExpiresAt);

public sealed record StartLinkConnectionRequest(Guid? ProviderId);

public sealed record CancelLinkSessionRequest(string? Reason = null);

/// <summary>Where to send the patient's browser now: the tenant's return url with the session's outcome.</summary>
public sealed record LinkSessionOutcome(string RedirectUrl);

public sealed record ExchangeRequest(string? ResultCode);

public sealed record ExchangeResponse(IReadOnlyList<ExchangedConnection> Connections);
