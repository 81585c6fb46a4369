using Aggregator.Sandbox.FhirData;
using Aggregator.Sandbox.Generator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Aggregator.Sandbox.TestApi;

/// <summary>
/// <c>/_test</c>: what a test or a partner engineer needs to drive the sandbox, e.g. the portal login of
/// every patient. Mapped only when <c>Sandbox:TestApi</c> is true.
/// </summary>
public static class TestApiEndpoints
{
    public static IEndpointRouteBuilder MapTestApiEndpoints(this IEndpointRouteBuilder app)
    {
        if (!app.ServiceProvider.GetRequiredService<IOptions<SandboxOptions>>().Value.TestApi)
        {
            return app;
        }

        var group = app.MapGroup("/_test").WithTags("Test API");
        group.MapGet("/patients", ListPatients);
        group.MapGet("/overlap", Overlap);
        group.MapFaultEndpoints();
        group.MapRequestCountEndpoints();
        group.MapResourceChangeEndpoints();
        return app;
    }

    /// <summary>One entry per patient per persona and version, with the patient's portal credentials.</summary>
    public static Results<Ok<IEnumerable<TestPatient>>, ProblemHttpResult> ListPatients(FhirStore store, CancellationToken cancellationToken)
    {
        if (!store.IsLoaded)
        {
            return Loading();
        }

        var patients = store.Datasets
            .SelectMany(d => d.Accounts)
            .OrderBy(a => a.Persona, StringComparer.Ordinal)
            .ThenBy(a => a.FhirVersion, StringComparer.Ordinal)
            .ThenBy(a => a.Username, StringComparer.Ordinal)
            .Select(a => new TestPatient(a.Persona, a.FhirVersion, a.PatientId, a.PersonId, a.Username, a.Password, a.Name, a.Source));
        return TypedResults.Ok(patients);
    }

    /// <summary>The generated people's ground truth: which resources, across personas and versions, state the same fact.</summary>
    public static Results<Ok<IEnumerable<PersonOverlap>>, ProblemHttpResult> Overlap(FhirStore store, string? personId,
        CancellationToken cancellationToken)
    {
        if (!store.IsLoaded)
        {
            return Loading();
        }

        return TypedResults.Ok(store.Overlap.Where(p => personId is null || p.PersonId == personId));
    }

    private static ProblemHttpResult Loading() => TypedResults.Problem(
        title: "The sandbox is still loading its data.",
        statusCode: StatusCodes.Status503ServiceUnavailable,
        type: "https://aggregator.example/problems/sandbox-loading");
}

public sealed record TestPatient(
    string Persona,
    string FhirVersion,
    string PatientId,
    string PersonId,
    string Username,
    string Password,
    string Name,
    string Source);
