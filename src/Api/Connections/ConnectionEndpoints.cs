using Aggregator.Api.Auditing;
using System.Linq.Expressions;
using Aggregator.Api.Authentication;
using Aggregator.Domain.Connections;
using Aggregator.Infrastructure.Connections;
using Aggregator.Infrastructure.Hosting;
using Aggregator.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aggregator.Api.Connections;

public static class ConnectionEndpoints
{
    public const string CallbackPath = "/v1/oauth/callback";

    public static IEndpointRouteBuilder MapConnectionEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var patients = endpoints.MapGroup("/v1/patients/{patientId:guid}/connections")
            .WithTags("Connections")
            .RequireAuthorization(AuthenticationSetup.PatientOrTenantPolicy)
            .Audited();
        patients.MapPost("/", Connect)
            .WithName("connectProvider")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status502BadGateway)
            .WithSummary("Connect a patient to a provider (SMART standalone launch)")
            .WithDescription("Returns the provider's authorize url to send the patient's browser to. After the provider's login the browser comes back to `returnUrl` with `status` (connected, denied, error), `connection_id`, on failure `reason`, and on a first binding `result_code`, which your backend redeems with `POST /v1/connections/{connectionId}/confirm` before anything the connection fetched shows.");
        patients.MapGet("/", ListConnections)
            .WithName("listConnections").WithSummary("A patient's connections and their state")
            .WithDescription("Every connection of the patient in one answer (a patient has a handful), so `nextCursor` is always null.");

        var connections = endpoints.MapGroup("/v1/connections")
            .WithTags("Connections")
            .RequireAuthorization(AuthenticationSetup.PatientOrTenantPolicy)
            .Audited();
        connections.MapGet("/{connectionId:guid}", GetConnection)
            .WithName("getConnection").WithSummary("One connection");
        connections.MapDelete("/{connectionId:guid}", Disconnect)
            .WithName("disconnect")
            .WithSummary("Disconnect: revoke the grant at the provider and destroy the tokens")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithDescription("With `purge=true` the data fetched through this connection is deleted too, and the record rebuilt before the answer: nothing that came only from this connection is served afterwards by any read (record, sources, timeline, trends, changes, FHIR view, export). A sync of it still running stops at its next batch; if it has not stopped within `Connect:SyncStopTimeout` (30 s) the answer is 409 and nothing was deleted (ask again). The connection stays listed as `revoked`; connect again to renew it. A patient's session token may disconnect its own patient's connections.");
        connections.MapPost("/{connectionId:guid}/confirm", Confirm)
            .WithName("confirmConnection")
            .RequireAuthorization(AuthenticationSetup.TenantPolicy)
            .WithSummary("Confirm a new connection with the result code from the return url")
            .WithDescription("A first connection ends `pending_confirmation`: it syncs, but nothing it fetched shows anywhere until your backend redeems the `result_code` it received on the return url, from the session of the user who started the flow. Single use; valid for `Connect:ConfirmationWindow` (15 minutes), after which the connection is revoked at the provider and deleted.");
        connections.MapPost("/{connectionId:guid}/reconnect", Reconnect)
            .WithName("reconnect")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status502BadGateway)
            .WithSummary("Re-authorise a connection, keeping its data")
            .WithDescription("Refused with reason `patient_mismatch` on the return url when the provider now names a different patient.");

        endpoints.MapGet(CallbackPath, Callback)
            .WithName("oauthCallback")
            .Produces(StatusCodes.Status302Found)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .WithTags("Connections")
            .WithSummary("OAuth redirect endpoint (providers send the patient's browser here)")
            .AllowAnonymous();
        return endpoints;
    }

    private static async Task<Results<Created<ConnectResponse>, ProblemHttpResult>> Connect(
        Guid patientId, ConnectRequest body, HttpContext http, ConnectFlow flow, IOptions<ApiPublicOptions> publicOptions, CancellationToken cancellationToken)
    {
        if (body.ProviderId == Guid.Empty || string.IsNullOrWhiteSpace(body.ReturnUrl))
        {
            return TypedResults.Problem(title: "providerId and returnUrl are required", statusCode: StatusCodes.Status400BadRequest, type: ProblemTypes.Validation);
        }

        if (!PatientAccess.Allows(http.User, patientId))
        {
            return ApiProblems.PatientNotFound();
        }

        try
        {
            var start = await flow.StartAsync(patientId, body.ProviderId, body.ReturnUrl, RedirectUri(http, publicOptions.Value), cancellationToken);
            return TypedResults.Created($"/v1/connections/{start.ConnectionId}", new ConnectResponse(start.ConnectionId, start.AuthorizeUrl.AbsoluteUri, start.ExpiresAt));
        }
        catch (ConnectRefusedException refused)
        {
            return ConnectProblems.For(refused);
        }
    }

    private static async Task<Results<Created<ConnectResponse>, ProblemHttpResult>> Reconnect(
        Guid connectionId, ReconnectRequest body, HttpContext http, ConnectFlow flow, AggregatorDbContext db, IOptions<ApiPublicOptions> publicOptions, CancellationToken cancellationToken)
    {
        if (!await ConnectionAccess.AllowsAsync(db, http, connectionId, cancellationToken))
        {
            return ApiProblems.ConnectionNotFound();
        }

        try
        {
            var start = await flow.ReconnectAsync(connectionId, body.ReturnUrl, RedirectUri(http, publicOptions.Value), cancellationToken);
            return TypedResults.Created($"/v1/connections/{start.ConnectionId}", new ConnectResponse(start.ConnectionId, start.AuthorizeUrl.AbsoluteUri, start.ExpiresAt));
        }
        catch (ConnectRefusedException refused)
        {
            return ConnectProblems.For(refused);
        }
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Disconnect(
        Guid connectionId, bool? purge, HttpContext http, AggregatorDbContext db, ConnectionRevocation revocation, CancellationToken cancellationToken)
    {
        if (!await ConnectionAccess.AllowsAsync(db, http, connectionId, cancellationToken))
        {
            return ApiProblems.ConnectionNotFound();
        }

        var result = await revocation.DisconnectAsync(connectionId, purge ?? false, cancellationToken);
        return result.SyncStillWriting
            ? TypedResults.Problem(
                title: "A sync of this connection is still writing",
                detail: "The connection is disconnected and its sync stops at its next batch, but it did not stop in time: nothing was purged yet. Ask for the purge again.",
                statusCode: StatusCodes.Status409Conflict, type: ProblemTypes.Conflict)
            : TypedResults.NoContent();
    }

    private static Ok<ConfirmResponse> Confirmed(HttpContext http, ConfirmResult result)
    {
        http.Items[AuditEndpoints.PatientItem] = result.PatientId;
        return TypedResults.Ok(new ConfirmResponse(result.ConnectionId, result.Status!.Value));
    }

    private static async Task<Results<Ok<ConfirmResponse>, ProblemHttpResult>> Confirm(
        Guid connectionId, ConfirmRequest? body, HttpContext http, ConnectionBinding binding, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(body?.ResultCode))
        {
            return TypedResults.Problem(title: "resultCode is required", detail: "Send the result_code from the return url: { \"resultCode\": \"...\" }.",
                statusCode: StatusCodes.Status400BadRequest, type: ProblemTypes.Validation);
        }

        var result = await binding.ConfirmAsync(connectionId, body.ResultCode, cancellationToken);
        return result.Outcome switch
        {
            ConfirmOutcome.Confirmed => Confirmed(http, result),
            ConfirmOutcome.NotFound => ApiProblems.ConnectionNotFound(),
            _ => TypedResults.Problem(
                title: "Invalid result code",
                detail: "This result code is not this connection's, was already used, or is past the confirmation window.",
                statusCode: StatusCodes.Status400BadRequest,
                type: ProblemTypes.InvalidResultCode),
        };
    }

    private static async Task<Results<Ok<PageResponse<ConnectionResponse>>, ProblemHttpResult>> ListConnections(
        Guid patientId, HttpContext http, AggregatorDbContext db, TimeProvider clock, IOptions<ConnectOptions> options, CancellationToken cancellationToken)
    {
        if (!PatientAccess.Allows(http.User, patientId) || !await db.Patients.AnyAsync(p => p.Id == patientId, cancellationToken))
        {
            return ApiProblems.PatientNotFound();
        }

        var items = await ConnectionResponse.Query(db, c => c.PatientId == patientId).ToListAsync(cancellationToken);
        var now = clock.GetUtcNow();
        return TypedResults.Ok(new PageResponse<ConnectionResponse>([.. items.Select(c => c.WithReconnectReason(now, options.Value.RefreshExpiringNotice))], null));
    }

    private static async Task<Results<Ok<ConnectionResponse>, ProblemHttpResult>> GetConnection(
        Guid connectionId, HttpContext http, AggregatorDbContext db, TimeProvider clock, IOptions<ConnectOptions> options, CancellationToken cancellationToken)
    {
        var connection = await ConnectionResponse.Query(db, c => c.Id == connectionId).SingleOrDefaultAsync(cancellationToken);
        return connection is null || !PatientAccess.Allows(http.User, connection.PatientId)
            ? ApiProblems.ConnectionNotFound()
            : TypedResults.Ok(connection.WithReconnectReason(clock.GetUtcNow(), options.Value.RefreshExpiringNotice));
    }

    private static async Task<Results<RedirectHttpResult, ProblemHttpResult>> Callback(
        string? code, string? state, string? error, string? iss, ConnectFlow flow, CancellationToken cancellationToken)
    {
        var outcome = await flow.CompleteAsync(new CallbackParameters(code, state, error, iss), cancellationToken);
        return outcome.RedirectTo is { } target
            ? TypedResults.Redirect(target.AbsoluteUri)
            : TypedResults.Problem(
                title: "Unknown or missing state",
                detail: "This authorization response does not belong to a connect attempt of ours. Start again from the app.",
                statusCode: StatusCodes.Status400BadRequest,
                type: ProblemTypes.InvalidState);
    }

    private static Uri RedirectUri(HttpContext http, ApiPublicOptions options)
    {
        return new Uri(PublicUrls.Base(http, options) + CallbackPath);
    }
}

public sealed record ConnectRequest(Guid ProviderId, string ReturnUrl);

public sealed record ReconnectRequest(string ReturnUrl);

public sealed record ConfirmRequest(string? ResultCode);

public sealed record ConfirmResponse(Guid ConnectionId, ConnectionStatus Status);

public sealed record ConnectResponse(Guid ConnectionId, string AuthorizeUrl, DateTimeOffset ExpiresAt);

public sealed record ConnectionResponse(
    Guid Id,
    Guid PatientId,
    Guid ProviderId,
    string ProviderName,
    ConnectionStatus Status,
    string? ProviderPatientId,
    string? GrantedScopes,
    DateTimeOffset? LastSyncAt,
    DateTimeOffset? LastSuccessAt,
    DateTimeOffset? NextSyncAt,
    string? LastError,
    DateTimeOffset? RefreshTokenExpiresAt,
    DateTimeOffset CreatedAt)
{
    /// <summary>
    /// Why the patient should reconnect now, if they should: <c>reauth_required</c> (the provider no longer accepts the
    /// grant) or <c>refresh_expiring</c> (its refresh token runs out within <c>Connect:RefreshExpiringNotice</c>).
    /// </summary>
    public string? ReconnectReason { get; init; }

    /// <summary>Adds <see cref="ReconnectReason"/>, as of <paramref name="now"/>.</summary>
    public ConnectionResponse WithReconnectReason(DateTimeOffset now, TimeSpan notice) => this with
    {
        ReconnectReason = Status == ConnectionStatus.ReauthRequired ? "reauth_required"
            : Status == ConnectionStatus.Active && RefreshTokenExpiresAt is { } expires && expires - now <= notice ? "refresh_expiring"
            : null,
    };

    /// <summary>Connections matching <paramref name="filter"/>, oldest first, with their provider's name.</summary>
    public static IQueryable<ConnectionResponse> Query(AggregatorDbContext db, Expression<Func<Connection, bool>> filter)
    {
        ArgumentNullException.ThrowIfNull(db);
        return db.Connections.AsNoTracking().Where(filter).OrderBy(c => c.CreatedAt).Join(db.Providers, c => c.ProviderId, p => p.Id, (c, p) => new ConnectionResponse(
            c.Id, c.PatientId, c.ProviderId, p.Name, c.Status,
            // Who signed in at the provider is not told until the binding is confirmed.
            c.ConfirmedAt == null ? null : c.ProviderPatientId,
            c.GrantedScopes, c.LastSyncAt, c.LastSuccessAt, c.NextSyncAt, c.LastError, c.RefreshTokenExpiresAt, c.CreatedAt));
    }
}

internal static class ConnectProblems
{
    public static ProblemHttpResult For(ConnectRefusedException refused) => refused.Refusal switch
    {
        ConnectRefusal.PatientNotFound => ApiProblems.PatientNotFound(),
        ConnectRefusal.ConnectionNotFound => ApiProblems.ConnectionNotFound(),
        ConnectRefusal.ProviderNotFound => TypedResults.Problem(title: "Unknown provider", detail: refused.Message, statusCode: StatusCodes.Status400BadRequest, type: ProblemTypes.UnknownProvider),
        ConnectRefusal.ReturnUrlNotRegistered => TypedResults.Problem(title: "Return url not registered", detail: refused.Message, statusCode: StatusCodes.Status400BadRequest, type: ProblemTypes.ReturnUrlNotRegistered),
        ConnectRefusal.ProviderNotConfigured => TypedResults.Problem(title: "Provider not configured", detail: refused.Message, statusCode: StatusCodes.Status409Conflict, type: ProblemTypes.ProviderNotConfigured),
        _ => TypedResults.Problem(title: "Provider unreachable", detail: refused.Message, statusCode: StatusCodes.Status502BadGateway, type: ProblemTypes.ProviderUnreachable),
    };
}
