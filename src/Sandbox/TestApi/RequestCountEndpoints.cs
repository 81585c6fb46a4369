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

    public static Ok<RequestCounts> Counts(RequestCounter counter, string? persona, string? patientId) =>
        TypedResults.Ok(counter.Read(persona?.ToLowerInvariant(), patientId));

    public static NoContent Reset(RequestCounter counter, string? persona, string? patientId)
    {
        counter.Reset(persona?.ToLowerInvariant(), patientId);
        return TypedResults.NoContent();
    }
}
