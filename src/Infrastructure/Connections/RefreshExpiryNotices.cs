using Aggregator.Infrastructure.Tenants;
using Aggregator.Domain.Connections;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Webhooks;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aggregator.Infrastructure.Connections;

/// <summary>
/// Tells a tenant, once per expiry, that a connection's refresh token runs out within
/// <see cref="ConnectOptions.RefreshExpiringNotice"/>, so the patient can reconnect before syncing stops.
/// Safe to run twice: a connection is marked with the expiry it was told about in the same transaction as
/// the webhook is stored.
/// </summary>
public sealed partial class RefreshExpiryNotices(
    AggregatorDbContext db,
    CurrentTenant tenant,
    WebhookOutbox webhooks,
    IOptions<ConnectOptions> options,
    TimeProvider clock,
    ILogger<RefreshExpiryNotices> logger)
{
    public const string RecurringJobId = "connections:refresh-expiring";

    [Queue(Jobs.JobQueues.Maintenance)]
    [AutomaticRetry(Attempts = 3)]
    [DisableConcurrentExecution(timeoutInSeconds: 60)]
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var horizon = now + options.Value.RefreshExpiringNotice;
        using var system = tenant.ActAsSystem(); // across every tenant
        var due = await db.Connections.IgnoreQueryFilters()
            .Where(c => c.Status == ConnectionStatus.Active && c.ConfirmedAt != null
                && c.RefreshTokenExpiresAt != null && c.RefreshTokenExpiresAt <= horizon
                && (c.RefreshExpiryNoticeFor == null || c.RefreshExpiryNoticeFor != c.RefreshTokenExpiresAt))
            .OrderBy(c => c.RefreshTokenExpiresAt)
            .Take(500)
            .ToListAsync(cancellationToken);
        if (due.Count == 0)
        {
            return 0;
        }

        var patients = due.Select(c => c.PatientId).Distinct().ToList();
        var externalIds = await db.Patients.IgnoreQueryFilters().Where(p => patients.Contains(p.Id))
            .ToDictionaryAsync(p => p.Id, p => p.ExternalId, cancellationToken);
        foreach (var connection in due)
        {
            connection.RefreshExpiryNoticeFor = connection.RefreshTokenExpiresAt;
            await webhooks.AddAsync(connection.TenantId, WebhookEventTypes.ConnectionRefreshExpiring, new
            {
                patientId = connection.PatientId,
                externalId = externalIds.GetValueOrDefault(connection.PatientId),
                connectionId = connection.Id,
                providerId = connection.ProviderId,
                refreshTokenExpiresAt = connection.RefreshTokenExpiresAt,
            }, cancellationToken);
        }

        await db.SaveChangesAsync(cancellationToken);
        webhooks.Dispatch();
        LogNoticed(logger, due.Count);
        return due.Count;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Told tenants of {Count} refresh tokens about to expire")]
    private static partial void LogNoticed(ILogger logger, int count);
}
