using Aggregator.Domain.Connections;
using Aggregator.Domain.Webhooks;
using Aggregator.Infrastructure.Connections;
using Aggregator.Infrastructure.Notifications;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Records;
using Aggregator.Infrastructure.Tenants;
using Aggregator.Infrastructure.Webhooks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Aggregator.Infrastructure.Patients;

public enum ErasureOutcome
{
    Deleted,
    NotFound,

    /// <summary>A sync of one of the patient's connections did not stop in time: every connection is revoked, nothing is deleted yet.</summary>
    SyncStillWriting,
}

/// <summary>
/// Deletes a patient for good: every connection is revoked at its provider (and its running sync stopped), then every
/// row of the patient goes (connections with what they fetched, runs and coverage; the record; link sessions; events;
/// pending webhook deliveries that name it). Its audit events stay: they hold who did what when, no clinical content.
/// The tenant hears <c>patient.deleted</c>; the patient's session tokens stop working and its cached record pages stop
/// being served on every replica; the same external id may be registered again, as a new patient.
/// </summary>
public sealed partial class PatientErasure(
    AggregatorDbContext db,
    ConnectionRevocation revocation,
    WebhookOutbox webhooks,
    CredentialRevocations credentials,
    DatabaseNotifications notifications,
    NpgsqlDataSource dataSource,
    IOptions<ConnectOptions> options,
    TimeProvider clock,
    ILogger<PatientErasure> logger)
{
    public async Task<ErasureOutcome> DeleteAsync(Guid patientId, CancellationToken cancellationToken)
    {
        var patient = await db.Patients.AsNoTracking().SingleOrDefaultAsync(p => p.Id == patientId, cancellationToken);
        if (patient is null)
        {
            return ErasureOutcome.NotFound;
        }

        var connections = await db.Connections.Where(c => c.PatientId == patientId).ToListAsync(cancellationToken);
        foreach (var connection in connections.Where(c => c.Status != ConnectionStatus.Revoked || c.TokenSetProtected is not null))
        {
            await revocation.EndAsync(connection, cancellationToken);
        }

        // Every running sync of the patient has stopped (they stop at their next batch once revoked) before rows go.
        await using var session = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            // One deadline for them all, not one per connection.
            var deadline = clock.GetUtcNow() + options.Value.SyncStopTimeout;
            foreach (var connection in connections)
            {
                var left = deadline - clock.GetUtcNow();
                if (!await Sync.SyncLocks.LockConnectionAsync(session, connection.Id, left > TimeSpan.Zero ? left : TimeSpan.Zero, clock, cancellationToken))
                {
                    return ErasureOutcome.SyncStillWriting;
                }
            }

            var deletedAt = clock.GetUtcNow();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            // Deliveries not yet made that name the patient (their payloads carry its ids) are not sent after it is gone.
            var named = $"%\"patientId\":\"{patientId}\"%";
            await db.WebhookDeliveries.Where(d => d.Status == WebhookDeliveryStatus.Pending && EF.Functions.Like(d.Payload, named))
                .ExecuteDeleteAsync(cancellationToken);
            // Cascades to connections (and their resources, runs, coverage, auth requests), record items, link sessions,
            // event-stream tickets and events.
            await db.Patients.Where(p => p.Id == patientId).ExecuteDeleteAsync(cancellationToken);
            await webhooks.AddAsync(patient.TenantId, WebhookEventTypes.PatientDeleted, new { patientId, externalId = patient.ExternalId, deletedAt }, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            // Every replica's caches drop the patient's pages and views (they never expire); this process at once, whatever
            // the notice's round trip, so that the answer is not followed by a cached page.
            var deletedNotice = RecordPageCache.DeletedNotice(patientId);
            await DatabaseNotifications.SendWithTransactionAsync(db.Database, NotificationChannels.RecordChanged, deletedNotice, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            notifications.Announce(NotificationChannels.RecordChanged, deletedNotice);
            webhooks.Dispatch();
        }
        finally
        {
            await Sync.SyncLocks.ReleaseAllAsync(session);
        }

        await credentials.PatientChangedAsync(patientId, cancellationToken);
        LogDeleted(logger, patientId, connections.Count);
        return ErasureOutcome.Deleted;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Patient {PatientId} deleted with its {Connections} connections")]
    private static partial void LogDeleted(ILogger logger, Guid patientId, int connections);
}
