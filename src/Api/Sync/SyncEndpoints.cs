using System.Text.Json;
using Aggregator.Api.Authentication;
using Aggregator.Api.Connections;
using Aggregator.Domain.Sync;
using Aggregator.Infrastructure.Hosting;
using Aggregator.Infrastructure.Paging;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Sync;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Api.Sync;

public static class SyncEndpoints
{
    public static IEndpointRouteBuilder MapSyncEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var group = endpoints.MapGroup("/v1/connections/{connectionId:guid}")
            .WithTags("Sync")
            .RequireAuthorization(AuthenticationSetup.PatientOrTenantPolicy);
        group.MapPost("/sync", RequestSync)
            .WithName("requestSync")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Sync this connection now")
            .WithDescription("202 with the run's id. While a run is queued or running, or shortly after one finished, the answer is that run's id instead of a new run. `full=true` fetches everything (not only what changed since the last run) and marks what the provider no longer has as deleted.");
        group.MapGet("/sync-runs", ListRuns)
            .WithName("listSyncRuns").WithSummary("The connection's sync runs, newest first (cursor paging)");
        group.MapGet("/coverage", GetCoverage)
            .WithName("getCoverage")
            .WithSummary("Per resource type: synced, empty, refused (403), unsupported (400/404) or failing, and since when");
        return endpoints;
    }

    private static async Task<Results<Accepted<SyncRequested>, ProblemHttpResult>> RequestSync(
        Guid connectionId, bool? full, HttpContext http, AggregatorDbContext db, SyncScheduler scheduler, CancellationToken cancellationToken)
    {
        if (!await ConnectionAccess.AllowsAsync(db, http, connectionId, cancellationToken))
        {
            return ApiProblems.ConnectionNotFound();
        }

        var result = await scheduler.RequestAsync(connectionId, full ?? false, cancellationToken);
        return result is null
            ? TypedResults.Problem(title: "Connection not active", detail: "Only an active connection can sync; reconnect it first.",
                statusCode: StatusCodes.Status409Conflict, type: ProblemTypes.Conflict)
            : TypedResults.Accepted($"/v1/connections/{connectionId}/sync-runs", new SyncRequested(result.SyncRunId, result.Started));
    }

    private static async Task<Results<Ok<PageResponse<SyncRunResponse>>, ProblemHttpResult>> ListRuns(
        Guid connectionId, int? limit, string? cursor, HttpContext http, AggregatorDbContext db, CursorCodec cursors, CancellationToken cancellationToken)
    {
        if (!await ConnectionAccess.AllowsAsync(db, http, connectionId, cancellationToken))
        {
            return ApiProblems.ConnectionNotFound();
        }

        // Newest first, by (queued at, id): a keyset that holds while new runs are queued between pages.
        var take = CursorCodec.ClampLimit(limit);
        var listing = $"sync-runs:{connectionId}";
        var query = db.SyncRuns.AsNoTracking().Where(r => r.ConnectionId == connectionId);
        if (!string.IsNullOrEmpty(cursor))
        {
            var after = cursors.Decode<RunPosition>(listing, cursor);
            query = query.Where(r => r.QueuedAt < after.QueuedAt || (r.QueuedAt == after.QueuedAt && r.Id.CompareTo(after.Id) < 0));
        }

        var runs = await query.OrderByDescending(r => r.QueuedAt).ThenByDescending(r => r.Id).Take(take + 1).ToListAsync(cancellationToken);
        var next = runs.Count > take ? cursors.Encode(listing, new RunPosition(runs[take - 1].QueuedAt, runs[take - 1].Id)) : null;
        return TypedResults.Ok(new PageResponse<SyncRunResponse>([.. runs.Take(take).Select(SyncRunResponse.From)], next));
    }

    private sealed record RunPosition(DateTimeOffset QueuedAt, Guid Id);

    private static async Task<Results<Ok<CoverageResponse>, ProblemHttpResult>> GetCoverage(
        Guid connectionId, HttpContext http, AggregatorDbContext db, CancellationToken cancellationToken)
    {
        if (!await ConnectionAccess.AllowsAsync(db, http, connectionId, cancellationToken))
        {
            return ApiProblems.ConnectionNotFound();
        }

        var entries = await db.Coverage.AsNoTracking().Where(c => c.ConnectionId == connectionId).OrderBy(c => c.ResourceType).ToListAsync(cancellationToken);
        return TypedResults.Ok(new CoverageResponse([.. entries.Select(e => new CoverageItem(e.ResourceType, e.State, e.Since, e.CheckedAt, e.Count, e.Detail))]));
    }
}

/// <summary><c>started</c> is false when an existing run answered instead of a new one.</summary>
public sealed record SyncRequested(Guid SyncRunId, bool Started);

public sealed record SyncRunResponse(
    Guid Id,
    SyncRunStatus Status,
    SyncTrigger Trigger,
    bool FullSync,
    DateTimeOffset QueuedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    long? DurationMs,
    int Pages,
    long Bytes,
    string? Error,
    int ResourcesSoFar,
    IReadOnlyDictionary<string, TypeCounts>? Types)
{
    public static SyncRunResponse From(SyncRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var types = run.TypeCounts is { } json ? JsonSerializer.Deserialize<Dictionary<string, TypeCounts>>(json, SyncCountsJson.Options) : null;
        return new(run.Id, run.Status, run.Trigger, run.FullSync, run.QueuedAt, run.StartedAt, run.FinishedAt, run.DurationMs, run.Pages, run.Bytes, run.Error,
            types?.Values.Sum(t => t.Fetched) ?? 0, types);
    }
}

public sealed record CoverageResponse(IReadOnlyList<CoverageItem> Items);

public sealed record CoverageItem(string ResourceType, CoverageState State, DateTimeOffset Since, DateTimeOffset CheckedAt, int Count, string? Detail);
