using Aggregator.Api.Auditing;
using Aggregator.Api.Authentication;
using Aggregator.Domain.Patients;
using Aggregator.Infrastructure.Hosting;
using Aggregator.Infrastructure.Patients;
using Aggregator.Infrastructure.Tenants;
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

        group.MapPut("/{externalId}", PutPatient)
            .WithSummary("Register a patient by your own id (idempotent)")
            .WithDescription("Creates the patient the first time an external id is used (201), and returns the same patient afterwards (200). An empty JSON object is a valid body.");
        group.MapPost("/{id:guid}/session-tokens", CreateSessionToken)
            .WithSummary("Mint a short-lived token for the patient's frontend")
            .WithDescription("The token (`aggs_…`, Bearer) can read this one patient and start connections for them, nothing else. `lifetimeMinutes` defaults to 15, at most 720.");
        endpoints.MapGet("/v1/patients/{id:guid}", GetPatient)
            .WithTags("Patients")
            .WithSummary("Read a patient")
            .RequireAuthorization(AuthenticationSetup.PatientOrTenantPolicy)
            .AuditReads();
        group.MapGet("/", ListPatients)
            .WithSummary("List the tenant's patients, oldest first (cursor paging)");
        return endpoints;
    }

    private static async Task<Results<Created<PatientResponse>, Ok<PatientResponse>, ProblemHttpResult>> PutPatient(
        string externalId,
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

    private static async Task<Results<Ok<PatientResponse>, ProblemHttpResult>> GetPatient(
        Guid id, HttpContext http, PatientRegistry patients, CancellationToken cancellationToken)
    {
        var patient = PatientAccess.Allows(http.User, id) ? await patients.FindAsync(id, cancellationToken) : null;
        return patient is null ? ApiProblems.PatientNotFound() : TypedResults.Ok(PatientResponse.From(patient));
    }

    private static async Task<Results<Created<SessionTokenResponse>, ProblemHttpResult>> CreateSessionToken(
        Guid id, [FromBody] SessionTokenRequest? body, PatientRegistry patients, CurrentTenant tenant, PatientSessionTokens sessions, CancellationToken cancellationToken)
    {
        if (await patients.FindAsync(id, cancellationToken) is null)
        {
            return ApiProblems.PatientNotFound();
        }

        var lifetime = body?.LifetimeMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : (TimeSpan?)null;
        var (token, expiresAt) = sessions.Issue(tenant.Required, id, lifetime);
        return TypedResults.Created((string?)null, new SessionTokenResponse(token, expiresAt, id));
    }

    private static async Task<Ok<PageResponse<PatientResponse>>> ListPatients(
        PatientRegistry patients, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var page = await patients.ListAsync(limit, cursor, cancellationToken);
        return TypedResults.Ok(new PageResponse<PatientResponse>([.. page.Items.Select(PatientResponse.From)], page.NextCursor));
    }
}

public sealed record SessionTokenRequest(int? LifetimeMinutes);

public sealed record SessionTokenResponse(string Token, DateTimeOffset ExpiresAt, Guid PatientId);

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
