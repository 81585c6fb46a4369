using Aggregator.Api.Auditing;
using Aggregator.Api.Authentication;
using Aggregator.Domain.Patients;
using Aggregator.Infrastructure.Hosting;
using Aggregator.Infrastructure.Patients;
using System.Security.Claims;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.AspNetCore.Mvc;

namespace Aggregator.Api.Patients;

public static class PatientEndpoints
{
    public static IEndpointRouteBuilder MapPatientEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var group = endpoints.MapGroup("/v1/patients")
            .WithTags("Patients")
            .RequireAuthorization(AuthenticationSetup.TenantPolicy);

        // One path, /v1/patients/{patientId}: PUT takes your own external id there (registering), every other verb our id.
        group.MapPut("/{patientId}", PutPatient)
            .WithName("registerPatient")
            .WithSummary("Register a patient by your own id (idempotent)")
            .WithDescription("`patientId` is **your own external id** for the patient here (1–200 characters), not ours: PUT registers by it. Creates the patient the first time an external id is used (201), and returns the same patient afterwards (200), with our `id`, which every other route takes. An empty JSON object is a valid body.");
        group.MapPost("/{patientId:guid}/session-tokens", CreateSessionToken)
            .WithName("createSessionToken")
            .WithSummary("Mint a short-lived token for the patient's frontend")
            .WithDescription("The token (`aggs_…`, Bearer) can read this one patient and start connections for them, nothing else. `lifetimeMinutes` defaults to 15, at most 720.");
        group.MapDelete("/{patientId:guid}/session-tokens", RevokeSessionTokens)
            .WithName("revokeSessionTokens")
            .WithSummary("Revoke every session token issued for the patient until now")
            .WithDescription("Signs the patient out everywhere: tokens issued before this call stop working at once on every replica; tokens minted afterwards work. 204.")
            .Audited();
        group.MapDelete("/{patientId:guid}", DeletePatient)
            .WithName("deletePatient")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Delete a patient and everything stored for them")
            .WithDescription("Revokes every connection at its provider, then deletes every row of the patient: connections with what they fetched, sync runs and coverage, the merged record, link sessions, events and webhook deliveries not yet made. Audit events stay (who did what when, no clinical content), readable at `GET /v1/audit-events?patientId=`. Sends `patient.deleted`. Afterwards every route under the patient answers 404, its session tokens stop working, and the same external id may be registered again as a new patient. 409 (nothing deleted) when a sync of the patient does not stop within `Connect:SyncStopTimeout`; ask again.")
            .Audited();
        endpoints.MapGet("/v1/session", GetSession)
            .WithName("getSession")
            .WithTags("Patients")
            .WithSummary("Who a patient session token speaks for")
            .WithDescription("A frontend holding only the token learns its patient (and when the token expires) here.")
            .RequireAuthorization(AuthenticationSetup.SessionPolicy);
        endpoints.MapGet("/v1/patients/{patientId:guid}", GetPatient)
            .WithName("getPatient")
            .WithTags("Patients")
            .WithSummary("Read a patient")
            .RequireAuthorization(AuthenticationSetup.PatientOrTenantPolicy)
            .Audited();
        group.MapGet("/", ListPatients)
            .WithName("listPatients")
            .WithSummary("List the tenant's patients (cursor paging), or find one by your external id")
            .WithDescription("With `externalId`, the page holds the one patient registered by that id of yours, or none.");
        return endpoints;
    }

    private static async Task<Results<Created<PatientResponse>, Ok<PatientResponse>, ProblemHttpResult>> PutPatient(
        [FromRoute(Name = "patientId")] string externalId,
        [FromBody] PatientUpsert? body,
        PatientRegistry patients,
        CancellationToken cancellationToken)
    {
        if (PatientRegistry.ValidateExternalId(externalId) is { } problem)
        {
            return TypedResults.Problem(title: "Invalid external id", detail: problem, statusCode: StatusCodes.Status400BadRequest, type: ProblemTypes.Validation);
        }

        var (patient, created) = await patients.EnsureAsync(externalId, cancellationToken);
        var response = PatientResponse.From(patient);
        return created
            ? TypedResults.Created($"/v1/patients/{patient.Id}", response)
            : TypedResults.Ok(response);
    }

    private static async Task<Results<Ok<SessionResponse>, ProblemHttpResult>> GetSession(
        HttpContext http, PatientRegistry patients, CurrentTenant tenant, AggregatorDbContext db, CancellationToken cancellationToken)
    {
        var patientId = Guid.Parse(http.User.FindFirstValue(ApiClaims.PatientId)!);
        var patient = await patients.FindAsync(patientId, cancellationToken);
        if (patient is null)
        {
            return ApiProblems.PatientNotFound();
        }

        var name = await db.Tenants.AsNoTracking().Where(t => t.Id == tenant.Required).Select(t => t.DisplayName ?? t.Name).SingleAsync(cancellationToken);
        var expires = DateTimeOffset.FromUnixTimeSeconds(long.Parse(http.User.FindFirstValue(ApiClaims.ExpiresAt)!, System.Globalization.CultureInfo.InvariantCulture));
        return TypedResults.Ok(new SessionResponse(patientId, name, expires));
    }

    /// <summary>
    /// Replicas' clocks differ a little: the cut-off is the database's clock plus <see cref="RevocationMargin"/>, so that a
    /// token minted just before by a replica whose clock runs ahead is ended too (tokens minted afterwards are stamped
    /// past the cut-off, see <see cref="PatientSessionTokens.Issue"/>).
    /// </summary>
    private static readonly TimeSpan RevocationMargin = TimeSpan.FromSeconds(5);

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeSessionTokens(
        Guid patientId, AggregatorDbContext db, CredentialRevocations revocations, CancellationToken cancellationToken)
    {
        // DateTimeOffset.UtcNow inside the update is the database's now(), not this replica's clock.
        if (await db.Patients.Where(p => p.Id == patientId)
            .ExecuteUpdateAsync(p => p.SetProperty(x => x.SessionsRevokedBefore, x => DateTimeOffset.UtcNow + RevocationMargin), cancellationToken) == 0)
        {
            return ApiProblems.PatientNotFound();
        }

        await revocations.PatientChangedAsync(patientId, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeletePatient(
        Guid patientId, PatientErasure erasure, CancellationToken cancellationToken) =>
        await erasure.DeleteAsync(patientId, cancellationToken) switch
        {
            ErasureOutcome.Deleted => TypedResults.NoContent(),
            ErasureOutcome.NotFound => ApiProblems.PatientNotFound(),
            _ => TypedResults.Problem(
                title: "A sync of this patient is still writing",
                detail: "Every connection of the patient is revoked and its syncs stop at their next batch, but one did not stop in time: nothing was deleted yet. Ask again.",
                statusCode: StatusCodes.Status409Conflict, type: ProblemTypes.Conflict),
        };

    private static async Task<Results<Ok<PatientResponse>, ProblemHttpResult>> GetPatient(
        Guid patientId, HttpContext http, PatientRegistry patients, CancellationToken cancellationToken)
    {
        var patient = PatientAccess.Allows(http.User, patientId) ? await patients.FindAsync(patientId, cancellationToken) : null;
        return patient is null ? ApiProblems.PatientNotFound() : TypedResults.Ok(PatientResponse.From(patient));
    }

    private static async Task<Results<Created<SessionTokenResponse>, ProblemHttpResult>> CreateSessionToken(
        Guid patientId, [FromBody] SessionTokenRequest? body, PatientRegistry patients, CurrentTenant tenant, PatientSessionTokens sessions, CancellationToken cancellationToken)
    {
        if (await patients.FindAsync(patientId, cancellationToken) is not { } patient)
        {
            return ApiProblems.PatientNotFound();
        }

        var lifetime = body?.LifetimeMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : (TimeSpan?)null;
        var (token, expiresAt) = sessions.Issue(tenant.Required, patientId, lifetime, patient.SessionsRevokedBefore);
        return TypedResults.Created((string?)null, new SessionTokenResponse(token, expiresAt, patientId));
    }

    private static async Task<Ok<PageResponse<PatientResponse>>> ListPatients(
        PatientRegistry patients, int? limit, string? cursor, string? externalId, CancellationToken cancellationToken)
    {
        if (externalId is not null)
        {
            // Your own id → ours: the one patient registered by it, or none.
            var found = await patients.FindByExternalIdAsync(externalId, cancellationToken);
            return TypedResults.Ok(new PageResponse<PatientResponse>(found is null ? [] : [PatientResponse.From(found)], null));
        }

        var page = await patients.ListAsync(limit, cursor, cancellationToken);
        return TypedResults.Ok(new PageResponse<PatientResponse>([.. page.Items.Select(PatientResponse.From)], page.NextCursor));
    }
}

public sealed record SessionTokenRequest(int? LifetimeMinutes = null);

public sealed record SessionTokenResponse(string Token, DateTimeOffset ExpiresAt, Guid PatientId);

/// <summary>The patient a session token speaks for, the tenant whose app it is, and when the token stops working.</summary>
public sealed record SessionResponse(Guid PatientId, string TenantName, DateTimeOffset ExpiresAt);

/// <summary>The body of <c>PUT /v1/patients/{externalId}</c>: nothing is required; <c>{}</c> is enough.</summary>
public sealed record PatientUpsert;

public sealed record PatientResponse(Guid Id, string ExternalId, DateTimeOffset CreatedAt, DateTimeOffset? RecordUpdatedAt)
{
    public static PatientResponse From(Patient patient)
    {
        ArgumentNullException.ThrowIfNull(patient);
        return new(patient.Id, patient.ExternalId, patient.CreatedAt, patient.RecordUpdatedAt);
    }
}
