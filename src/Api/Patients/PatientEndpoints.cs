using Aggregator.Api.Authentication;
using Aggregator.Domain.Patients;
using Aggregator.Infrastructure.Hosting;
using Aggregator.Infrastructure.Patients;
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
        group.MapGet("/{id:guid}", GetPatient)
            .WithSummary("Read a patient");
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
        Guid id, PatientRegistry patients, CancellationToken cancellationToken)
    {
        var patient = await patients.FindAsync(id, cancellationToken);
        return patient is null ? ApiProblems.PatientNotFound() : TypedResults.Ok(PatientResponse.From(patient));
    }

    private static async Task<Ok<PageResponse<PatientResponse>>> ListPatients(
        PatientRegistry patients, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var page = await patients.ListAsync(limit, cursor, cancellationToken);
        return TypedResults.Ok(new PageResponse<PatientResponse>([.. page.Items.Select(PatientResponse.From)], page.NextCursor));
    }
}

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
