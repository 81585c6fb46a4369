using Aggregator.Domain.Sync;
using Aggregator.Infrastructure.Jobs;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Tenants;
using Hangfire;

namespace Aggregator.Infrastructure.Sync;

/// <summary>Records a queued sync run and hands it to the job servers.</summary>
public sealed class SyncScheduler(AggregatorDbContext db, CurrentTenant tenant, IBackgroundJobClient jobs, TimeProvider clock)
{
    public async Task<Guid> EnqueueAsync(Guid connectionId, SyncTrigger trigger, CancellationToken cancellationToken)
    {
        var run = new SyncRun
        {
            Id = Guid.CreateVersion7(),
            TenantId = tenant.Required,
            ConnectionId = connectionId,
            Status = SyncRunStatus.Queued,
            Trigger = trigger,
            FullSync = trigger == SyncTrigger.Initial,
            QueuedAt = clock.GetUtcNow(),
        };
        db.SyncRuns.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        jobs.Enqueue<SyncConnectionJob>(JobQueues.Sync, job => job.RunAsync(run.Id, CancellationToken.None));
        return run.Id;
    }
}
