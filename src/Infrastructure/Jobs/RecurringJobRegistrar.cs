using Aggregator.Infrastructure.Housekeeping;
using Aggregator.Infrastructure.Sync;
using Hangfire;
using Microsoft.Extensions.Hosting;

namespace Aggregator.Infrastructure.Jobs;

/// <summary>Declares the recurring jobs; idempotent, so every job server may do it at start.</summary>
internal sealed class RecurringJobRegistrar(IRecurringJobManager recurring) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        recurring.AddOrUpdate<ExpiredAuthRequestSweep>(
            ExpiredAuthRequestSweep.RecurringJobId,
            JobQueues.Maintenance,
            job => job.RunAsync(CancellationToken.None),
            Cron.Hourly());
        recurring.AddOrUpdate<Connections.ConnectionConfirmationSweep>(
            Connections.ConnectionConfirmationSweep.RecurringJobId,
            JobQueues.Maintenance,
            job => job.RunAsync(CancellationToken.None),
            Cron.Minutely());
        recurring.AddOrUpdate<Connections.LinkSessionSweep>(
            Connections.LinkSessionSweep.RecurringJobId,
            JobQueues.Maintenance,
            job => job.RunAsync(CancellationToken.None),
            Cron.Minutely());
        recurring.AddOrUpdate<Connections.RefreshExpiryNotices>(
            Connections.RefreshExpiryNotices.RecurringJobId,
            JobQueues.Maintenance,
            job => job.RunAsync(CancellationToken.None),
            Cron.Hourly());
        recurring.AddOrUpdate<Events.EventRetentionSweep>(
            Events.EventRetentionSweep.RecurringJobId,
            JobQueues.Maintenance,
            job => job.RunAsync(CancellationToken.None),
            Cron.Hourly());
        recurring.AddOrUpdate<SyncDispatcher>(
            SyncDispatcher.RecurringJobId,
            JobQueues.Default,
            job => job.DispatchAsync(CancellationToken.None),
            Cron.Minutely());
        recurring.AddOrUpdate<StrandedRunSweep>(
            StrandedRunSweep.RecurringJobId,
            JobQueues.Maintenance,
            job => job.RunAsync(CancellationToken.None),
            Cron.Minutely());
        recurring.AddOrUpdate<Webhooks.WebhookSweep>(
            Webhooks.WebhookSweep.RecurringJobId,
            JobQueues.Default,
            job => job.RunAsync(CancellationToken.None),
            Cron.Minutely());
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
