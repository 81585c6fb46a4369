using Aggregator.Infrastructure.Tenants;
using Aggregator.Domain.Webhooks;
using Aggregator.Infrastructure.Jobs;
using Aggregator.Infrastructure.Persistence;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Infrastructure.Webhooks;

/// <summary>Requeues pending deliveries whose attempt is overdue (a queued job lost with its server, a crash between commit and queuing).</summary>
public sealed class WebhookSweep(AggregatorDbContext db, CurrentTenant tenant, IBackgroundJobClient jobs, TimeProvider clock)
{
    public const string RecurringJobId = "webhook-sweep";

    /// <summary>How late an attempt must be before the sweep requeues it (its own job would normally have run).</summary>
    private static readonly TimeSpan Grace = TimeSpan.FromMinutes(2);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var overdue = clock.GetUtcNow() - Grace;
        using var system = tenant.ActAsSystem(); // across every tenant
        var ids = await db.WebhookDeliveries.IgnoreQueryFilters()
            .Where(d => d.Status == WebhookDeliveryStatus.Pending && d.NextAttemptAt < overdue)
            .OrderBy(d => d.NextAttemptAt).Select(d => d.Id).Take(500)
            .ToListAsync(cancellationToken);
        foreach (var id in ids)
        {
            jobs.Enqueue<WebhookSender>(JobQueues.Default, sender => sender.SendAsync(id, CancellationToken.None));
        }
    }
}
