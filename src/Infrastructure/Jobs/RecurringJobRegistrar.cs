using Aggregator.Infrastructure.Housekeeping;
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
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
