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
            .AuditReads();
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

    private static async Task<Results<Ok<PatientResponse>, ProblemHttpResult>> GetPatient(
        Guid patientId, HttpContext http, PatientRegistry patients, CancellationToken cancellationToken)
    {
        var patient = PatientAccess.Allows(http.User, patientId) ? await patients.FindAsync(patientId, cancellationToken) : null;
        return patient is null ? ApiProblems.PatientNotFound() : TypedResults.Ok(PatientResponse.From(patient));
    }

    private static async Task<Results<Created<SessionTokenResponse>, ProblemHttpResult>> CreateSessionToken(
        Guid patientId, [FromBody] SessionTokenRequest? body, PatientRegistry patients, CurrentTenant tenant, PatientSessionTokens sessions, CancellationToken cancellationToken)
    {
        if (await patients.FindAsync(patientId, cancellationToken) is null)
        {
            return ApiProblems.PatientNotFound();
        }

        var lifetime = body?.LifetimeMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : (TimeSpan?)null;
        var (token, expiresAt) = sessions.Issue(tenant.Required, patientId, lifetime);
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

public sealed record SessionTokenRequest(int? LifetimeMinutes);

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
