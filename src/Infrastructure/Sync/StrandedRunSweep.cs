using Aggregator.Infrastructure.Jobs;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Tenants;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aggregator.Infrastructure.Sync;

/// <summary>
/// Queues a new job for each unfinished sync run that no job will run any more: its job finished, failed or was
/// deleted (from the dashboard, say) while the run stayed queued or running, or, for a run queued by a version that
/// committed runs before their jobs, it has none on record. Runs and jobs are queued together now
/// (<see cref="JobTransaction"/>), so this is the safety net, not the path; a run it finds would otherwise answer every
/// manual sync of its connection for ever.
/// </summary>
public sealed partial class StrandedRunSweep(
    AggregatorDbContext db,
    CurrentTenant tenant,
    SyncScheduler scheduler,
    IOptions<SyncOptions> options,
    IOptions<DatabaseOptions> database,
    TimeProvider clock,
    ILogger<StrandedRunSweep> logger)
{
    public const string RecurringJobId = "sync:stranded-runs";

    private const int BatchSize = 500;

    [Queue(JobQueues.Maintenance)]
    [AutomaticRetry(Attempts = 0)]
    [DisableConcurrentExecution(timeoutInSeconds: 60)]
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        using var system = tenant.ActAsSystem(); // across every tenant
        var cutoff = clock.GetUtcNow() - options.Value.StrandedAfter;
        var jobTable = $"\"{database.Value.HangfireSchema.Replace("\"", "\"\"", StringComparison.Ordinal)}\".job";
        using var transaction = JobTransaction.Begin();
        // Hangfire.PostgreSql's own job table (id, statename), read in one indexed query rather than one storage call
        // per run: a backlog of thousands of runs waiting for a Worker is normal, and they must cost nothing here.
        // Locked, so that a run's own job (taking it, or queuing its retry) and this sweep never both act on it.
#pragma warning disable EF1002 // The schema is our own setting, quoted as an identifier; the values are parameters.
        var ids = await db.Database.SqlQueryRaw<Guid>(
            $"""
            SELECT r.id AS "Value" FROM sync_runs r
            LEFT JOIN {jobTable} j ON j.id = r.job_id::bigint
            WHERE r.status IN ('Queued', 'Running') AND r.queued_at < @cutoff
              AND CASE WHEN r.job_id IS NULL THEN r.status = 'Queued'
                       ELSE j.id IS NULL OR j.statename IS NULL OR j.statename IN ('Succeeded', 'Failed', 'Deleted') END
            ORDER BY r.queued_at
            LIMIT {BatchSize}
            FOR UPDATE OF r SKIP LOCKED
            """,
            new Npgsql.NpgsqlParameter("cutoff", cutoff)).ToListAsync(cancellationToken);
#pragma warning restore EF1002
        if (ids.Count == 0)
        {
            return 0;
        }

        var runs = await db.SyncRuns.IgnoreQueryFilters().Where(r => ids.Contains(r.Id)).ToListAsync(cancellationToken);
        foreach (var run in runs)
        {
            scheduler.QueueJob(run);
        }

        await db.SaveChangesAsync(cancellationToken);
        transaction.Complete();
        LogRequeued(logger, runs.Count, options.Value.StrandedAfter);
        return runs.Count;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Queued {Count} unfinished sync runs again: older than {StrandedAfter}, no job would run them")]
    private static partial void LogRequeued(ILogger logger, int count, TimeSpan strandedAfter);
}
