using Aggregator.Infrastructure.Jobs;
using Hangfire;
using Microsoft.Extensions.Logging;

namespace Aggregator.Infrastructure.Sync;

/// <summary>
/// The Hangfire job of one sync run. Safe to run twice: a finished run is not run again, and a
/// rerun after a Worker died mid-sync finds what was stored and goes on. When another run of the
/// connection holds it, or the provider is at its concurrency limit, it tries again shortly.
/// </summary>
public sealed partial class SyncConnectionJob(SyncEngine engine, IBackgroundJobClient jobs, ILogger<SyncConnectionJob> logger)
{
    public static readonly TimeSpan BusyRetryDelay = TimeSpan.FromSeconds(20);

    [Queue(JobQueues.Sync)]
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(Guid syncRunId, CancellationToken cancellationToken)
    {
        var start = await engine.RunAsync(syncRunId, cancellationToken);
        if (start != SyncStart.Ran)
        {
            LogBusy(logger, syncRunId, start);
            jobs.Schedule<SyncConnectionJob>(JobQueues.Sync, job => job.RunAsync(syncRunId, CancellationToken.None), BusyRetryDelay);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sync run {SyncRunId} postponed: {Reason}")]
    private static partial void LogBusy(ILogger logger, Guid syncRunId, SyncStart reason);
}
