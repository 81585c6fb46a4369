using Aggregator.Infrastructure.Tenants;
using Aggregator.Infrastructure.Persistence;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aggregator.Infrastructure.Events;

/// <summary><c>Events:*</c>: how long a patient's events stay resumable.</summary>
public sealed class EventOptions
{
    public const string Section = "Events";

    /// <summary>How far back <c>Last-Event-ID</c> can resume; older ids get <c>event: reset</c>.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often an idle stream sends a comment, so proxies and clients know it is alive.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>Deletes events past their retention and spent or expired stream tickets. Safe to run twice.</summary>
public sealed partial class EventRetentionSweep(AggregatorDbContext db, CurrentTenant tenant, TimeProvider clock, IOptions<EventOptions> options, ILogger<EventRetentionSweep> logger)
{
    public const string RecurringJobId = "housekeeping:patient-events";

    [Queue(Jobs.JobQueues.Maintenance)]
    [AutomaticRetry(Attempts = 3)]
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var cutoff = now - options.Value.Retention;
        using var system = tenant.ActAsSystem(); // across every tenant
        var events = await db.PatientEvents.IgnoreQueryFilters().Where(e => e.OccurredAt < cutoff).ExecuteDeleteAsync(cancellationToken);
        var tickets = await db.EventStreamTickets.IgnoreQueryFilters().Where(t => t.ExpiresAt < now).ExecuteDeleteAsync(cancellationToken);
        LogSwept(logger, events, tickets);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Events} expired patient events and {Tickets} stream tickets")]
    private static partial void LogSwept(ILogger logger, int events, int tickets);
}
