using System.Security.Claims;
using System.Text;
using Aggregator.Api.Authentication;
using Aggregator.Domain.Auditing;
using Aggregator.Infrastructure.Auditing;
using Aggregator.Infrastructure.Paging;
using Aggregator.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Api.Auditing;

/// <summary>
/// Every successful read of patient data leaves an audit event: who (API key or patient session),
/// which patient, what (the route, with the category or FHIR type read), when, and the request id.
/// Events are noted in memory when the response completes and written in batches by <see cref="AuditTrail"/>.
/// </summary>
public static class AuditEndpoints
{
    /// <summary>Where a handler names the patient it read when the route does not (FHIR searches and reads).</summary>
    public const string PatientItem = "audit:patient";

    /// <summary>
    /// Audits every successful call of these endpoints (reads, and changes such as connect, confirm, disconnect, purge,
    /// export and delete) that names a patient, by its route or through <see cref="PatientItem"/>.
    /// </summary>
    public static TBuilder Audited<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var result = await next(context);
            var http = context.HttpContext;
            if (Actor(http.User) is { } actor)
            {
                var trail = http.RequestServices.GetRequiredService<AuditTrail>();
                var clock = http.RequestServices.GetRequiredService<TimeProvider>();
                var action = Action(http);
                http.Response.OnCompleted(async () =>
                {
                    if (http.Response.StatusCode is (>= 200 and < 300) or StatusCodes.Status304NotModified && PatientOf(http) is { } patientId)
                    {
                        // Usually at once; when the writer is behind by a full buffer, the request's completion waits for room,
                        // for a while: a database that stays away must not hold every connection (the trail logs what it lost).
                        await trail.RecordAsync(new AuditEvent
                        {
                            TenantId = actor.TenantId,
                            ActorType = actor.Type,
                            ActorId = actor.Id,
                            PatientId = patientId,
                            Action = action,
                            OccurredAt = clock.GetUtcNow(),
                            RequestId = http.TraceIdentifier,
                        });
                    }
                });
            }

            return result;
        });

    public static IEndpointRouteBuilder MapAuditEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/v1/patients/{patientId:guid}/audit-events", ListEvents)
            .WithName("listAuditEvents")
            .Produces<AuditEventPage>()
            .WithTags("Patients")
            .WithSummary("Who read this patient's data, newest first (cursor paging)")
            .WithDescription("One event per successful call that read or changed the patient's data (record, FHIR view, patient, export, connects, confirmations, disconnects and purges): `actorType` (`api_key`, `session_token`, `link_session`, `operator`), `actorId` (the key's id, `session:{patientId}`, `link:{linkSessionId}` or `cli`), `action` (the method and route), `occurredAt`, `requestId` (the `traceId` of that request's logs). Events are written within seconds of the read.")
            .RequireAuthorization(AuthenticationSetup.PatientOrTenantPolicy);
        endpoints.MapGet("/v1/audit-events", ListTenantEvents)
            .WithName("listTenantAuditEvents")
            .Produces<AuditEventPage>()
            .WithTags("Patients")
            .WithSummary("The tenant's audit trail, newest first (cursor paging), optionally for one patient")
            .WithDescription("Every audited call of the tenant: reads of patient data, connects, confirmations, disconnects and purges, exports, deletions, and operators' commands (`actorType` `operator`). With `patientId`, one patient's events, also after that patient was deleted (the events hold no clinical content).")
            .RequireAuthorization(AuthenticationSetup.TenantPolicy);
        return endpoints;
    }

    private static async Task<IResult> ListTenantEvents(
        Guid? patientId, AggregatorDbContext db, CursorCodec cursors, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var take = CursorCodec.ClampLimit(limit);
        var listing = "audit-tenant:" + patientId;
        var events = db.AuditEvents.AsNoTracking();
        if (patientId is { } id)
        {
            events = events.Where(e => e.PatientId == id);
        }

        if (!string.IsNullOrEmpty(cursor))
        {
            var before = cursors.Decode<long>(listing, cursor);
            events = events.Where(e => e.Id < before);
        }

        var page = await events.OrderByDescending(e => e.Id).Take(take + 1)
            .Select(e => new AuditEventResponse(e.Id, e.OccurredAt, e.ActorType, e.ActorId, e.Action, e.RequestId) { PatientId = e.PatientId })
            .ToListAsync(cancellationToken);
        var next = page.Count > take ? cursors.Encode(listing, page[take - 1].Sequence) : null;
        return TypedResults.Ok(new AuditEventPage(page.Take(take).ToList(), next));
    }

    private static async Task<IResult> ListEvents(
        Guid patientId, HttpContext http, AggregatorDbContext db, CursorCodec cursors, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        // A patient's own session token may read who accessed its data.
        if (!PatientAccess.Allows(http.User, patientId) || !await db.Patients.AnyAsync(p => p.Id == patientId, cancellationToken))
        {
            return ApiProblems.PatientNotFound();
        }

        var take = CursorCodec.ClampLimit(limit);
        var listing = "audit:" + patientId;
        var events = db.AuditEvents.AsNoTracking().Where(e => e.PatientId == patientId);
        if (!string.IsNullOrEmpty(cursor))
        {
            var before = cursors.Decode<long>(listing, cursor);
            events = events.Where(e => e.Id < before);
        }

        var page = await events.OrderByDescending(e => e.Id).Take(take + 1)
            .Select(e => new AuditEventResponse(e.Id, e.OccurredAt, e.ActorType, e.ActorId, e.Action, e.RequestId))
            .ToListAsync(cancellationToken);
        var next = page.Count > take ? cursors.Encode(listing, page[take - 1].Sequence) : null;
        return TypedResults.Ok(new AuditEventPage(page.Take(take).ToList(), next));
    }

    private static (Guid TenantId, AuditActorType Type, string Id)? Actor(ClaimsPrincipal user)
    {
        if (!Guid.TryParse(user.FindFirstValue(ApiClaims.TenantId), out var tenantId) || user.FindFirstValue(ApiClaims.ActorId) is not { } id)
        {
            return null;
        }

        return user.FindFirstValue(ApiClaims.ActorType) switch
        {
            ApiClaims.ActorApiKey => (tenantId, AuditActorType.ApiKey, id),
            ApiClaims.ActorSession => (tenantId, AuditActorType.SessionToken, id),
            ApiClaims.ActorLinkSession => (tenantId, AuditActorType.LinkSession, id),
            _ => null,
        };
    }

    /// <summary>
    /// The method and the route template, with the category or FHIR type filled in (ids are not: they are in
    /// <c>patientId</c>), and <c>?purge=true</c> when a disconnect purged.
    /// </summary>
    private static string Action(HttpContext http)
    {
        var template = (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? http.Request.Path.Value ?? "";
        var action = new StringBuilder(http.Request.Method).Append(' ').Append(template);
        foreach (var name in new[] { "category", "type" })
        {
            if (http.Request.RouteValues.TryGetValue(name, out var value) && value is string text)
            {
                action.Replace("{" + name + "}", text);
            }
        }

        if (HttpMethods.IsDelete(http.Request.Method) && string.Equals(http.Request.Query["purge"], "true", StringComparison.OrdinalIgnoreCase))
        {
            action.Append("?purge=true");
        }

        return action.Length <= 100 ? action.ToString() : action.ToString(0, 100);
    }

    private static Guid? PatientOf(HttpContext http)
    {
        if (http.Items.TryGetValue(PatientItem, out var named) && named is Guid fromHandler)
        {
            return fromHandler;
        }

        foreach (var name in new[] { "patientId", "id" })
        {
            if (http.Request.RouteValues.TryGetValue(name, out var value) && Guid.TryParse(value as string, out var fromRoute))
            {
                return fromRoute;
            }
        }

        // The hosted Connect page acts for its link session's one patient.
        return http.User.FindFirstValue(ApiClaims.ActorType) == ApiClaims.ActorLinkSession && Guid.TryParse(http.User.FindFirstValue(ApiClaims.PatientId), out var own)
            ? own
            : null;
    }
}

public sealed record AuditEventResponse(
    [property: System.Text.Json.Serialization.JsonIgnore] long Sequence,
    DateTimeOffset OccurredAt,
    AuditActorType ActorType,
    string ActorId,
    string Action,
    string? RequestId)
{
    /// <summary>The patient whose data the call touched (in the tenant's trail; a patient's own trail is all theirs).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public Guid? PatientId { get; init; }
}

public sealed record AuditEventPage(IReadOnlyList<AuditEventResponse> Items, string? NextCursor);
