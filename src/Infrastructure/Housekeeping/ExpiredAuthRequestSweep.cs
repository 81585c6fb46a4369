using Aggregator.Infrastructure.Tenants;
using Aggregator.Infrastructure.Persistence;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Aggregator.Infrastructure.Housekeeping;

/// <summary>
/// Deletes authorize attempts that can no longer complete (expired a while ago), so their
/// encrypted PKCE verifiers do not outlive their use. Safe to run twice.
/// </summary>
public sealed partial class ExpiredAuthRequestSweep(
    AggregatorDbContext db,
    CurrentTenant tenant,
    TimeProvider clock,
    ILogger<ExpiredAuthRequestSweep> logger)
{
    public const string RecurringJobId = "housekeeping:expired-auth-requests";

    /// <summary>Kept a little past expiry so that a late callback still gets "expired", not "unknown".</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromHours(1);

    [Queue(Jobs.JobQueues.Maintenance)]
    [AutomaticRetry(Attempts = 3)]
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var cutoff = clock.GetUtcNow() - Grace;
        using var system = tenant.ActAsSystem(); // across every tenant
        var deleted = await db.AuthRequests.IgnoreQueryFilters()
            .Where(a => a.ExpiresAt < cutoff)
            .ExecuteDeleteAsync(cancellationToken);
        LogSwept(logger, deleted);
        return deleted;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Count} expired authorize attempts")]
    private static partial void LogSwept(ILogger logger, int count);
}
