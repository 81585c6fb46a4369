using System.Globalization;
using System.Security.Claims;
using System.Text;
using Aggregator.Api.Authentication;
using Aggregator.Infrastructure.Events;
using Aggregator.Infrastructure.Hosting;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Tenants;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Aggregator.Api.Operations;

namespace Aggregator.Api.Events;

/// <summary>
/// A patient's live events as Server-Sent Events: connection state, sync progress, finished syncs and new
/// record versions. Ids come from the patient's sequence in PostgreSQL, so a client resumes with
/// <c>Last-Event-ID</c> on any replica for as long as events are kept (older: <c>event: reset</c>).
/// </summary>
public static class EventEndpoints
{
    private const int Batch = 200;

    public static IEndpointRouteBuilder MapEventEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var group = endpoints.MapGroup("/v1/patients/{patientId:guid}/events").WithTags("Events");
        group.MapGet("/", Stream)
            .WithName("streamEvents")
            .ProducesEventStream()
            // A browser's EventSource sends no Authorization header: a ticket may stand in for it (checked below).
            .AllowAnonymous()
            .WithSummary("The patient's live events (Server-Sent Events)")
            .WithDescription("`text/event-stream` of `connection.updated`, `sync.progress`, `sync.finished` and `record.updated`. Each event's `id` is the patient's event sequence: reconnect with `Last-Event-ID` (or `?lastEventId=`, for a new `EventSource` opened with a new ticket) to resume (events are kept 24 hours; an older id gets `event: reset`, after which re-read the state). A comment line every 15 seconds keeps the stream alive. Authenticate with `Authorization: Bearer`, or with `?ticket=` from `POST /v1/patients/{patientId}/events/tickets`.");
        group.MapPost("/tickets", IssueTicket)
            .WithName("createEventTicket")
            .RequireAuthorization(AuthenticationSetup.PatientOrTenantPolicy)
            .WithSummary("A single-use ticket to open the event stream without a header (60 seconds)");
        return endpoints;
    }

    /// <summary>When a session or link token was issued (null for an API key).</summary>
    private static DateTimeOffset? IssuedAt(ClaimsPrincipal user) =>
        user.FindFirstValue(ApiClaims.IssuedAt) is { } issued ? new DateTimeOffset(long.Parse(issued, CultureInfo.InvariantCulture), TimeSpan.Zero) : null;

    /// <summary>When a session or link token expires (null for an API key).</summary>
    private static DateTimeOffset? ExpiresAt(ClaimsPrincipal user) =>
        user.FindFirstValue(ApiClaims.ExpiresAt) is { } expires ? DateTimeOffset.FromUnixTimeSeconds(long.Parse(expires, CultureInfo.InvariantCulture)) : null;

    private static async Task<Results<Created<TicketResponse>, ProblemHttpResult>> IssueTicket(
        Guid patientId, HttpContext http, AggregatorDbContext db, EventStreamTickets tickets, CancellationToken cancellationToken)
    {
        if (!PatientAccess.Allows(http.User, patientId) || !await db.Patients.AnyAsync(p => p.Id == patientId, cancellationToken))
        {
            return ApiProblems.PatientNotFound();
        }

        var (ticket, expiresAt) = await tickets.IssueAsync(
            Guid.Parse(http.User.FindFirstValue(ApiClaims.TenantId)!), patientId,
            http.User.FindFirstValue(ApiClaims.ActorType)!, http.User.FindFirstValue(ApiClaims.ActorId)!,
            IssuedAt(http.User), ExpiresAt(http.User), cancellationToken);
        return TypedResults.Created($"/v1/patients/{patientId}/events?ticket=", new TicketResponse(ticket, expiresAt));
    }

    private static async Task<IResult> Stream(
        Guid patientId, string? ticket, string? lastEventId, HttpContext http, AggregatorDbContext db, CurrentTenant tenant, EventStreamTickets tickets,
        IOptions<EventOptions> options, CredentialRevocations revocations, CancellationToken cancellationToken)
    {
        // Checked again on every turn of the stream (from memory): revoking the patient's sessions, suspending the tenant
        // or deleting the patient ends a stream already open.
        PatientSession standing;
        if (!string.IsNullOrEmpty(ticket))
        {
            var holder = await tickets.RedeemAsync(ticket, cancellationToken);
            if (holder is null)
            {
                return TypedResults.Problem(title: "Invalid ticket", detail: "The ticket is unknown, already used or expired; ask for a new one.",
                    statusCode: StatusCodes.Status401Unauthorized, type: ProblemTypes.InvalidTicket);
            }

            tenant.Set(holder.TenantId);
            if (holder.PatientId != patientId)
            {
                return ApiProblems.PatientNotFound();
            }

            // The stream stands and falls with the credential that asked for the ticket: a session revoked since is refused.
            standing = new PatientSession(holder.TenantId, patientId, holder.CredentialExpiresAt ?? DateTimeOffset.MaxValue, holder.CredentialIssuedAt ?? DateTimeOffset.MaxValue);
            if (standing.ExpiresAt <= DateTimeOffset.UtcNow || !await revocations.SessionAllowedAsync(standing, cancellationToken))
            {
                return TypedResults.Problem(title: "Invalid ticket", detail: "The credential that asked for this ticket has expired or was revoked; sign in again.",
                    statusCode: StatusCodes.Status401Unauthorized, type: ProblemTypes.InvalidTicket);
            }
        }
        else
        {
            var result = await http.AuthenticateAsync(ApiCredentialsHandler.SchemeName);
            if (!result.Succeeded)
            {
                return TypedResults.Challenge(authenticationSchemes: [ApiCredentialsHandler.SchemeName]);
            }

            if (!PatientAccess.Allows(result.Principal, patientId))
            {
                return ApiProblems.PatientNotFound();
            }

            var user = result.Principal;
            standing = new PatientSession(
                Guid.Parse(user.FindFirstValue(ApiClaims.TenantId)!),
                patientId,
                ExpiresAt(user) ?? DateTimeOffset.MaxValue,
                IssuedAt(user) ?? DateTimeOffset.MaxValue);
        }

        var head = await db.Patients.AsNoTracking().Where(p => p.Id == patientId).Select(p => (long?)p.EventSequence).SingleOrDefaultAsync(cancellationToken);
        if (head is null)
        {
            return ApiProblems.PatientNotFound();
        }

        return new EventStreamResult(patientId, head.Value, LastEventId(http, lastEventId), options.Value.HeartbeatInterval,
            async () => standing.ExpiresAt > DateTimeOffset.UtcNow && await revocations.SessionAllowedAsync(standing, CancellationToken.None));
    }

    /// <summary>
    /// Where to resume: the <c>Last-Event-ID</c> header, or else <c>?lastEventId=</c>. A browser's own reconnect
    /// sends the header, but a ticket is single use, so a page that lost its stream opens a new
    /// <c>EventSource</c> with a new ticket, and a new <c>EventSource</c> can only say where it was in the url.
    /// </summary>
    private static long? LastEventId(HttpContext http, string? fromQuery)
    {
        var header = http.Request.Headers["Last-Event-ID"].ToString();
        var value = header.Length > 0 ? header : fromQuery;
        return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
    }

    /// <summary>Writes the stream until the client goes away: what was missed first, then each new event as it is stored.</summary>
    private sealed class EventStreamResult(Guid patientId, long head, long? lastEventId, TimeSpan heartbeat, Func<Task<bool>> stillAllowed) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var http = httpContext;
            var db = http.RequestServices.GetRequiredService<AggregatorDbContext>();
            var signals = http.RequestServices.GetRequiredService<PatientEventSignals>();
            var cancellationToken = http.RequestAborted;
            http.Response.ContentType = "text/event-stream";
            http.Response.Headers.CacheControl = "no-cache";
            http.Response.Headers["X-Accel-Buffering"] = "no";
            // Listen before reading, so nothing stored in between is missed.
            using var subscription = signals.Subscribe(patientId);
            var writer = new StringBuilder("retry: 3000\n\n");
            var last = await StartAsync(db, writer, cancellationToken);
            await WriteAsync(http, writer, cancellationToken);
            try
            {
                while (!cancellationToken.IsCancellationRequested && await stillAllowed())
                {
                    var events = await db.PatientEvents.AsNoTracking()
                        .Where(e => e.PatientId == patientId && e.Sequence > last)
                        .OrderBy(e => e.Sequence).Take(Batch)
                        .Select(e => new { e.Sequence, e.Type, e.Data })
                        .ToListAsync(cancellationToken);
                    foreach (var e in events)
                    {
                        writer.Append("id: ").Append(e.Sequence.ToString(CultureInfo.InvariantCulture))
                            .Append("\nevent: ").Append(e.Type)
                            .Append("\ndata: ").Append(e.Data).Append("\n\n");
                        last = e.Sequence;
                    }

                    if (events.Count > 0)
                    {
                        await WriteAsync(http, writer, cancellationToken);
                    }

                    if (events.Count == Batch)
                    {
                        continue;
                    }

                    if (!await subscription.WaitAsync(heartbeat, cancellationToken))
                    {
                        writer.Append(": heartbeat\n\n");
                        await WriteAsync(http, writer, cancellationToken);
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The client went away.
            }
        }

        /// <summary>Where the stream starts: after <c>Last-Event-ID</c> when it can still be resumed, else at the head (with a reset when asked to resume from too far back).</summary>
        private async Task<long> StartAsync(AggregatorDbContext db, StringBuilder writer, CancellationToken cancellationToken)
        {
            if (lastEventId is not { } resumeAfter)
            {
                return head;
            }

            if (resumeAfter >= head)
            {
                return resumeAfter == head ? head : Reset(writer);
            }

            // Resumable only when the event right after it is still kept.
            var kept = await db.PatientEvents.AsNoTracking().AnyAsync(e => e.PatientId == patientId && e.Sequence == resumeAfter + 1, cancellationToken);
            return kept ? resumeAfter : Reset(writer);
        }

        private long Reset(StringBuilder writer)
        {
            writer.Append("id: ").Append(head.ToString(CultureInfo.InvariantCulture)).Append("\nevent: reset\ndata: {\"lastEventId\":")
                .Append(head.ToString(CultureInfo.InvariantCulture)).Append("}\n\n");
            return head;
        }

        private static async Task WriteAsync(HttpContext http, StringBuilder writer, CancellationToken cancellationToken)
        {
            await http.Response.WriteAsync(writer.ToString(), cancellationToken);
            await http.Response.Body.FlushAsync(cancellationToken);
            writer.Clear();
        }
    }
}

public sealed record TicketResponse(string Ticket, DateTimeOffset ExpiresAt);
