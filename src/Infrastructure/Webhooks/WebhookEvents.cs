using System.Text.Json;
using Aggregator.Domain.Sync;
using Aggregator.Domain.Webhooks;
using Aggregator.Infrastructure.Jobs;
using Aggregator.Infrastructure.Persistence;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Infrastructure.Webhooks;

/// <summary>The events a tenant's webhook url receives. Payloads carry ids and states, never clinical data or tokens.</summary>
public static class WebhookEventTypes
{
    /// <summary>A sync run finished (<c>succeeded</c>, <c>partial</c> or <c>failed</c>); the record may have a new version.</summary>
    public const string SyncFinished = "sync.finished";

    /// <summary>The provider no longer accepts the connection's grant: the patient must reconnect.</summary>
    public const string ConnectionReauthRequired = "connection.reauth_required";

    /// <summary>A connection's refresh token expires soon: the patient should reconnect before syncing stops.</summary>
    public const string ConnectionRefreshExpiring = "connection.refresh_expiring";

    /// <summary>A hosted Connect session ran out before the patient finished it (neither Done nor Cancel).</summary>
    public const string LinkSessionExpired = "link_session.expired";

    /// <summary>The patient's merged record has a new version (a sync changed it, or a purge took a provider's facts out).</summary>
    public const string RecordUpdated = "record.updated";

    /// <summary>A patient was deleted with everything stored for them (<c>patientId</c>, <c>externalId</c>, <c>deletedAt</c>).</summary>
    public const string PatientDeleted = "patient.deleted";
}

/// <summary>
/// A transactional outbox for webhook events: an event is added to the caller's unit of work (so
/// it is stored exactly when what it announces is), and handed to the job server once committed.
/// Tenants without a webhook url get no rows.
/// </summary>
public sealed class WebhookOutbox(AggregatorDbContext db, IBackgroundJobClient jobs, TimeProvider clock)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly List<Guid> _added = [];

    public async Task AddAsync(Guid tenantId, string eventType, object data, CancellationToken cancellationToken)
    {
        var hasUrl = await db.Tenants.IgnoreQueryFilters().AnyAsync(t => t.Id == tenantId && t.WebhookUrl != null, cancellationToken);
        if (!hasUrl)
        {
            return;
        }

        var now = clock.GetUtcNow();
        var delivery = new WebhookDelivery
        {
            Id = Guid.CreateVersion7(),
            TenantId = tenantId,
            EventType = eventType,
            Payload = JsonSerializer.Serialize(new { type = eventType, timestamp = now, data }, Json),
            CreatedAt = now,
            NextAttemptAt = now,
        };
        db.WebhookDeliveries.Add(delivery);
        _added.Add(delivery.Id);
    }

    /// <summary>A <c>sync.finished</c> event for a run that has just ended (with the patient's record version as it now is).</summary>
    public async Task AddSyncFinishedAsync(Guid tenantId, Guid patientId, Guid connectionId, Guid syncRunId, SyncRunStatus status, string? error, CancellationToken cancellationToken)
    {
        var patient = await db.Patients.IgnoreQueryFilters().AsNoTracking().Where(p => p.Id == patientId)
            .Select(p => new { p.ExternalId, p.RecordVersion }).SingleAsync(cancellationToken);
        await AddAsync(tenantId, WebhookEventTypes.SyncFinished, new
        {
            patientId,
            externalId = patient.ExternalId,
            connectionId,
            syncRunId,
            status = status.ToString().ToLowerInvariant(),
            error,
            recordVersion = patient.RecordVersion,
        }, cancellationToken);
    }

    /// <summary>After the caller saved: queues the new deliveries (the sweep catches any whose queuing is lost).</summary>
    public void Dispatch()
    {
        foreach (var id in _added)
        {
            jobs.Enqueue<WebhookSender>(JobQueues.Default, sender => sender.SendAsync(id, CancellationToken.None));
        }

        _added.Clear();
    }
}
