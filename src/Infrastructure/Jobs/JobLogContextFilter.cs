using Hangfire.Server;
using Serilog.Context;

namespace Aggregator.Infrastructure.Jobs;

/// <summary>Gives every log line written while a job runs the job's id (the per-job correlation id).</summary>
internal sealed class JobLogContextFilter : IServerFilter
{
    private const string ScopeKey = "Aggregator.LogScope";

    public void OnPerforming(PerformingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Items[ScopeKey] = LogContext.PushProperty("JobId", context.BackgroundJob.Id);
    }

    public void OnPerformed(PerformedContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Items.TryGetValue(ScopeKey, out var scope) && scope is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }
}
