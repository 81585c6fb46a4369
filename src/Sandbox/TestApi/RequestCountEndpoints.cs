using Aggregator.Sandbox.Personas;
using Aggregator.Sandbox.Traffic;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Aggregator.Sandbox.TestApi;

/// <summary><c>/_test/requests</c>: how many FHIR and token endpoint requests a persona (and patient) has seen.</summary>
public static class RequestCountEndpoints
{
    public static RouteGroupBuilder MapRequestCountEndpoints(this RouteGroupBuilder group)
    {
        group.MapGet("/requests", Counts);
        group.MapDelete("/requests", Reset);
        return group;
    }

    public static Results<Ok<RequestCounts>, ValidationProblem> Counts(RequestCounter counter, string? persona, string? patientId, string? fhirVersion)
    {
        FhirVersion? version = null;
        if (fhirVersion is not null)
        {
            if (!Enum.TryParse<FhirVersion>(fhirVersion, ignoreCase: true, out var parsed))
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["fhirVersion"] = ["fhirVersion is R4 or DSTU2."] },
                    type: "https://aggregator.example/problems/sandbox-request-counts-invalid");
            }

            version = parsed;
        }

        return TypedResults.Ok(counter.Read(persona?.ToLowerInvariant(), patientId, version));
    }

    public static NoContent Reset(RequestCounter counter, string? persona, string? patientId)
    {
        counter.Reset(persona?.ToLowerInvariant(), patientId);
        return TypedResults.NoContent();
    }
}
