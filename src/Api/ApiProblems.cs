using Aggregator.Infrastructure.Hosting;

namespace Aggregator.Api;

/// <summary>Problem details the endpoints return, so that one error reads the same everywhere.</summary>
public static class ApiProblems
{
    public static ProblemHttpResult PatientNotFound() => TypedResults.Problem(
        title: "Patient not found",
        detail: "No patient with this id exists for your tenant.",
        statusCode: StatusCodes.Status404NotFound,
        type: ProblemTypes.NotFound);

    public static ProblemHttpResult ConnectionNotFound() => TypedResults.Problem(
        title: "Connection not found",
        detail: "No connection with this id exists for your tenant.",
        statusCode: StatusCodes.Status404NotFound,
        type: ProblemTypes.NotFound);
}

/// <summary>One page of a cursor-paged list; <c>nextCursor</c> is null on the last page.</summary>
public sealed record PageResponse<T>(IReadOnlyList<T> Items, string? NextCursor);
