using Aggregator.Domain.Connections;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Tenants;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aggregator.Infrastructure.Connections;

/// <summary>
/// Ends bindings nobody confirmed: a connection never confirmed a confirmation window after its result code
/// was issued is revoked at the provider and deleted with what it fetched, whatever its status became meanwhile
/// (a grant the provider revoked, or a disconnect without purge, must not keep quarantined data forever); a
/// <c>pending</c> connection whose authorize attempts have all expired (the patient never came back) is
/// deleted too. Each connection is handled in its tenant's own scope. Safe to run twice.
/// </summary>
public sealed partial class ConnectionConfirmationSweep(
    AggregatorDbContext db,
    CurrentTenant tenant,
    IServiceScopeFactory scopes,
    IOptions<ConnectOptions> options,
    TimeProvider clock,
    ILogger<ConnectionConfirmationSweep> logger)
{
    public const string RecurringJobId = "housekeeping:unconfirmed-connections";

    [Queue(Jobs.JobQueues.Maintenance)]
    [AutomaticRetry(Attempts = 3)]
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var confirmBy = now - options.Value.ConfirmationWindow;
        var abandonedBefore = now - options.Value.StateLifetime;
        // System work across every tenant: finds the candidates, then removes each in its tenant's scope.
        using var system = tenant.ActAsSystem();
        var unconfirmed = await db.Connections.IgnoreQueryFilters()
            .Where(c => c.ConfirmedAt == null && c.ResultCodeIssuedAt < confirmBy)
            .OrderBy(c => c.ResultCodeIssuedAt)
            .Select(c => new { c.Id, c.TenantId })
            .Take(500)
            .ToListAsync(cancellationToken);
        var abandoned = await db.Connections.IgnoreQueryFilters()
            .Where(c => c.Status == ConnectionStatus.Pending && c.CreatedAt < abandonedBefore
                && !db.AuthRequests.IgnoreQueryFilters().Any(a => a.ConnectionId == c.Id && a.ExpiresAt > now))
            .OrderBy(c => c.CreatedAt)
            .Select(c => new { c.Id, c.TenantId })
            .Take(500)
            .ToListAsync(cancellationToken);

        var removed = 0;
        foreach (var (connection, due) in unconfirmed.Select(c => (c, (Func<Connection, bool>)IsUnconfirmed))
            .Concat(abandoned.Select(c => (c, (Func<Connection, bool>)IsAbandoned))))
        {
            await using var scope = scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<CurrentTenant>().Set(connection.TenantId);
            if (await scope.ServiceProvider.GetRequiredService<ConnectionRevocation>().RemoveAsync(connection.Id, due, cancellationToken))
            {
                removed++;
            }
        }

        bool IsUnconfirmed(Connection c) => c.ConfirmedAt is null && c.ResultCodeIssuedAt < confirmBy;
        bool IsAbandoned(Connection c) => c.Status == ConnectionStatus.Pending;

        if (removed > 0)
        {
            LogSwept(logger, unconfirmed.Count, abandoned.Count);
        }

        return removed;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed {Unconfirmed} unconfirmed and {Abandoned} abandoned connections")]
    private static partial void LogSwept(ILogger logger, int unconfirmed, int abandoned);
}
