using Aggregator.Domain.Connections;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Tenants;
using Aggregator.Infrastructure.Webhooks;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aggregator.Infrastructure.Connections;

/// <summary>
/// Ends hosted Connect sessions that ran out unfinished: each becomes <c>expired</c>, its tenant hears
/// <c>link_session.expired</c>, and whatever it connected that nobody can confirm now is revoked and
/// removed. Each session is handled in its tenant's own scope. Safe to run twice.
/// </summary>
public sealed partial class LinkSessionSweep(AggregatorDbContext db, CurrentTenant tenant, IServiceScopeFactory scopes, TimeProvider clock, ILogger<LinkSessionSweep> logger)
{
    public const string RecurringJobId = "housekeeping:expired-link-sessions";

    [Queue(Jobs.JobQueues.Maintenance)]
    [AutomaticRetry(Attempts = 3)]
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        // System work across every tenant: finds the sessions, then ends each in its tenant's scope.
        var due = await FindDueAsync(now, cancellationToken);
        var expired = 0;
        foreach (var candidate in due)
        {
            await using var scope = scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<CurrentTenant>().Set(candidate.TenantId);
            var scoped = scope.ServiceProvider.GetRequiredService<AggregatorDbContext>();
            var webhooks = scope.ServiceProvider.GetRequiredService<WebhookOutbox>();
            var session = await scoped.LinkSessions.SingleAsync(s => s.Id == candidate.Id, cancellationToken);
            if (session.Status != LinkSessionStatus.Active)
            {
                continue;
            }

            session.Status = LinkSessionStatus.Expired;
            session.FinishedAt = now;
            var externalId = await scoped.Patients.Where(p => p.Id == session.PatientId).Select(p => p.ExternalId).SingleAsync(cancellationToken);
            await webhooks.AddAsync(session.TenantId, WebhookEventTypes.LinkSessionExpired, new
            {
                linkSessionId = session.Id,
                patientId = session.PatientId,
                externalId,
                opened = session.OpenedAt is not null,
                expiredAt = session.ExpiresAt,
            }, cancellationToken);
            await scoped.SaveChangesAsync(cancellationToken);
            webhooks.Dispatch();
            await LinkSessions.RemoveUnconfirmedAsync(scope.ServiceProvider.GetRequiredService<ConnectionRevocation>(), session.ConnectionIds, cancellationToken);
            expired++;
        }

        if (expired > 0)
        {
            LogExpired(logger, expired);
        }

        return expired;
    }

    private async Task<List<(Guid Id, Guid TenantId)>> FindDueAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        using var system = tenant.ActAsSystem();
        var due = await db.LinkSessions.IgnoreQueryFilters()
            .Where(s => s.Status == LinkSessionStatus.Active && s.ExpiresAt <= now)
            .OrderBy(s => s.ExpiresAt)
            .Select(s => new { s.Id, s.TenantId })
            .Take(500)
            .ToListAsync(cancellationToken);
        return due.ConvertAll(s => (s.Id, s.TenantId));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Expired {Count} unfinished link sessions")]
    private static partial void LogExpired(ILogger logger, int count);
}
