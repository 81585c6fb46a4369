using Aggregator.Domain.Sync;
using Aggregator.Infrastructure.Jobs;
using Aggregator.Infrastructure.Persistence;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aggregator.Infrastructure.Sync;

/// <summary>
/// The Hangfire job of one sync run. Safe to run twice: a finished run is not run again, and a
/// rerun after a Worker died mid-sync finds what was stored and goes on. When another run of the
/// connection holds it, or the provider is at its concurrency limit, it tries again shortly. A run
/// never stays queued or running because of an error: it ends failed, with the reason in the logs.
/// </summary>
public sealed partial class SyncConnectionJob(SyncEngine engine, IBackgroundJobClient jobs, IServiceScopeFactory scopes, TimeProvider clock, ILogger<SyncConnectionJob> logger)
{
    public static readonly TimeSpan BusyRetryDelay = TimeSpan.FromSeconds(10);

    [Queue(JobQueues.Sync)]
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(Guid syncRunId, CancellationToken cancellationToken)
    {
        SyncStart start;
        try
        {
            start = await engine.RunAsync(syncRunId, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogCrashed(logger, ex, syncRunId);
            await MarkFailedAsync(syncRunId);
            return;
        }

        if (start != SyncStart.Ran)
        {
            LogBusy(logger, syncRunId, start);
            await RetryLaterAsync(syncRunId);
        }
    }

    /// <summary>The retry's job becomes the run's job in the same transaction, so the run is never without one on record.</summary>
    private async Task RetryLaterAsync(Guid syncRunId)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AggregatorDbContext>();
        using var system = scope.ServiceProvider.GetRequiredService<Tenants.CurrentTenant>().ActAsSystem();
        using var transaction = JobTransaction.Begin();
        var retry = jobs.Schedule<SyncConnectionJob>(JobQueues.Sync, job => job.RunAsync(syncRunId, CancellationToken.None), BusyRetryDelay);
        await db.SyncRuns.IgnoreQueryFilters().Where(r => r.Id == syncRunId)
            .ExecuteUpdateAsync(update => update.SetProperty(r => r.JobId, retry));
        transaction.Complete();
    }

    private async Task MarkFailedAsync(Guid syncRunId)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AggregatorDbContext>();
        var tenant = scope.ServiceProvider.GetRequiredService<Tenants.CurrentTenant>();
        const string Reason = "The sync stopped on an internal error; operators can see the details in the logs.";
        SyncRun? run;
        using (tenant.ActAsSystem())
        {
            run = await db.SyncRuns.IgnoreQueryFilters()
                .SingleOrDefaultAsync(r => r.Id == syncRunId && (r.Status == SyncRunStatus.Queued || r.Status == SyncRunStatus.Running));
        }

        if (run is null)
        {
            return;
        }

        tenant.Set(run.TenantId);

        run.Status = SyncRunStatus.Failed;
        run.FinishedAt = clock.GetUtcNow();
        run.Error = Reason;
        // The partner hears of this run's end too, as of any other (unless the connection is still quarantined).
        var connection = await db.Connections.IgnoreQueryFilters().Where(c => c.Id == run.ConnectionId)
            .Select(c => new { c.PatientId, Confirmed = c.ConfirmedAt != null }).SingleAsync();
        var webhooks = scope.ServiceProvider.GetRequiredService<Webhooks.WebhookOutbox>();
        if (connection.Confirmed)
        {
            await webhooks.AddSyncFinishedAsync(run.TenantId, connection.PatientId, run.ConnectionId, run.Id, run.Status, run.Error, CancellationToken.None);
        }

        await db.SaveChangesAsync();
        webhooks.Dispatch();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sync run {SyncRunId} postponed: {Reason}")]
    private static partial void LogBusy(ILogger logger, Guid syncRunId, SyncStart reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sync run {SyncRunId} could not run")]
    private static partial void LogCrashed(ILogger logger, Exception exception, Guid syncRunId);
}
