using Aggregator.Domain.Connections;
using Aggregator.Domain.Sync;
using Aggregator.Infrastructure.Jobs;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Tenants;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aggregator.Infrastructure.Sync;

public sealed record SyncRequestResult(Guid SyncRunId, bool Started);

/// <summary>Records queued sync runs and hands them to the job servers, each run with its job in one transaction.</summary>
public sealed class SyncScheduler(AggregatorDbContext db, CurrentTenant tenant, IBackgroundJobClient jobs, IOptions<SyncOptions> options, TimeProvider clock)
{
    public async Task<Guid> EnqueueAsync(Guid connectionId, SyncTrigger trigger, CancellationToken cancellationToken)
    {
        var run = NewRun(connectionId, tenant.Required, trigger);
        using var transaction = JobTransaction.Begin();
        QueueJob(run);
        db.SyncRuns.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        transaction.Complete();
        return run.Id;
    }

    /// <summary>
    /// A sync now, unless one is queued or running, or finished within the cooldown: then that
    /// run answers (providers are not ours to hammer). Null when the connection cannot sync.
    /// </summary>
    public async Task<SyncRequestResult?> RequestAsync(Guid connectionId, bool full, CancellationToken cancellationToken)
    {
        var strategy = db.Database.CreateExecutionStrategy();
        return await strategy.ExecuteAsync(async () =>
        {
            // The run and its job are committed together: a crash in between leaves neither, never a run no job will run.
            using var transaction = JobTransaction.Begin();
            // Two requests at once must agree on one run.
            await db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_advisory_xact_lock(hashtextextended({"sync-request:" + connectionId}, 0))", cancellationToken);
            var connection = await db.Connections.AsNoTracking().SingleOrDefaultAsync(c => c.Id == connectionId, cancellationToken);
            if (connection is null || connection.Status != ConnectionStatus.Active)
            {
                return null;
            }

            var cooldownStart = clock.GetUtcNow() - options.Value.ManualCooldown;
            var recent = await db.SyncRuns.AsNoTracking()
                .Where(r => r.ConnectionId == connectionId
                    && (r.Status == SyncRunStatus.Queued || r.Status == SyncRunStatus.Running || r.FinishedAt >= cooldownStart))
                .OrderByDescending(r => r.QueuedAt)
                .Select(r => (Guid?)r.Id)
                .FirstOrDefaultAsync(cancellationToken);
            if (recent is { } existing)
            {
                transaction.Complete();
                return new SyncRequestResult(existing, false);
            }

            var run = NewRun(connectionId, connection.TenantId, SyncTrigger.Manual);
            run.FullSync = full;
            QueueJob(run);
            db.SyncRuns.Add(run);
            await db.SaveChangesAsync(cancellationToken);
            transaction.Complete();
            return new SyncRequestResult(run.Id, true);
        });
    }

    /// <summary>Queues the run's job and records its id on the run; inside a <see cref="JobTransaction"/>, with the run's insert.</summary>
    internal void QueueJob(SyncRun run)
    {
        var runId = run.Id;
        run.JobId = jobs.Enqueue<SyncConnectionJob>(JobQueues.Sync, job => job.RunAsync(runId, CancellationToken.None));
    }

    internal SyncRun NewRun(Guid connectionId, Guid tenantId, SyncTrigger trigger) => new()
    {
        Id = Guid.CreateVersion7(),
        TenantId = tenantId,
        ConnectionId = connectionId,
        Status = SyncRunStatus.Queued,
        Trigger = trigger,
        FullSync = trigger == SyncTrigger.Initial,
        QueuedAt = clock.GetUtcNow(),
    };
}
