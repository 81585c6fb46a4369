using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Aggregator.Domain.Records;
using Aggregator.Infrastructure.Notifications;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Sync;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Aggregator.Infrastructure.Records;

/// <summary>
/// Precomputes a patient's merged record into <c>record_items</c>: normalises every stored R4
/// resource of the patient's connections, de-duplicates them (Domain), and writes only the items
/// that changed, under a new record version; items no longer stated are tombstoned for the change
/// feed. Every Api replica hears the new version through NOTIFY.
/// </summary>
public sealed partial class RecordBuilder(
    AggregatorDbContext db,
    DatabaseNotifications notifications,
    Events.PatientEventLog events,
    Webhooks.WebhookOutbox webhooks,
    Observability.AggregatorMetrics metrics,
    TimeProvider clock,
    ILogger<RecordBuilder> logger) : IRecordRebuilder
{
    public async Task RebuildAsync(Guid patientId, CancellationToken cancellationToken)
    {
        var started = clock.GetTimestamp();
        var strategy = db.Database.CreateExecutionStrategy();
        var version = await strategy.ExecuteAsync(async () =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            // One rebuild of a patient at a time (two connections may finish syncing together).
            await db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_advisory_xact_lock(hashtextextended({"record:" + patientId}, 0))", cancellationToken);
            var result = await RebuildLockedAsync(patientId, cancellationToken);
            if (result is { } written)
            {
                await DatabaseNotifications.SendWithTransactionAsync(db.Database, NotificationChannels.RecordChanged, $"{patientId}:{written}", cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return result;
        });

        if (version is { } changed)
        {
            // This process first (a purge answers right after the rebuild: no cached page of the old version may follow).
            notifications.Announce(NotificationChannels.RecordChanged, $"{patientId}:{changed}");
            webhooks.Dispatch();
        }

        metrics.RecordRebuilt(clock.GetElapsedTime(started));
    }

    /// <summary>Returns the new record version when anything changed, else null.</summary>
    private async Task<long?> RebuildLockedAsync(Guid patientId, CancellationToken cancellationToken)
    {
        var patient = await db.Patients.SingleAsync(p => p.Id == patientId, cancellationToken);
        using var sources = await PatientSources.LoadAsync(db, patientId, cancellationToken);

        // Every resource a fact may point to (the Medication of an order, the results of a report, the order a claim
        // bills), per connection, by R4 reference.
        var supporting = sources.Resources
            .GroupBy(r => r.ConnectionId)
            .ToDictionary(g => g.Key, g => g.GroupBy(r => $"{r.Resource.GetProperty("resourceType").GetString()}/{r.ResourceId}")
                .ToDictionary(x => x.Key, x => x.First().Resource, StringComparer.Ordinal));
        var items = new List<ClinicalItem>();
        foreach (var resource in sources.Resources)
        {
            var lookup = supporting.GetValueOrDefault(resource.ConnectionId);
            var source = new SourceRef(resource.ConnectionId, resource.Provider, resource.ResourceType, resource.ResourceId, resource.LastUpdated);
            if (ClinicalNormalizer.Normalize(source, resource.Resource, reference => lookup is not null && lookup.TryGetValue(reference, out var found) ? found : null) is { } item)
            {
                items.Add(item);
            }
        }

        return await WriteAsync(patient, RecordMerger.Merge(items), cancellationToken);
    }

    private async Task<long?> WriteAsync(Domain.Patients.Patient patient, IReadOnlyList<MergedItem> merged, CancellationToken cancellationToken)
    {
        var existing = await db.RecordItems.Where(i => i.PatientId == patient.Id).ToDictionaryAsync(i => (i.Category, i.ItemKey), cancellationToken);
        var version = patient.RecordVersion + 1;
        var now = clock.GetUtcNow();
        var changed = 0;
        var seen = new HashSet<(string, string)>();
        // New items get ids in the merge's order (version 7 ids of one moment are otherwise in random order), so that
        // items of one date list in the same order however often the record is built.
        var fresh = new Queue<Guid>(Enumerable.Range(0, merged.Count(m => !existing.ContainsKey((m.Category, m.ItemKey))))
            .Select(_ => Guid.CreateVersion7(now)).Order());
        foreach (var item in merged)
        {
            seen.Add((item.Category, item.ItemKey));
            var display = item.Render();
            var text = display.ToJsonString();
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text));
            if (existing.TryGetValue((item.Category, item.ItemKey), out var row))
            {
                if (row.DeletedAt is null && row.ContentHash.AsSpan().SequenceEqual(hash))
                {
                    continue;
                }
            }
            else
            {
                row = new Domain.Records.RecordItem
                {
                    Id = fresh.Dequeue(),
                    TenantId = patient.TenantId,
                    PatientId = patient.Id,
                    Category = item.Category,
                    ItemKey = item.ItemKey,
                    Display = "{}",
                    Compact = "{}",
                    Sources = "[]",
                    ContentHash = hash,
                };
                db.RecordItems.Add(row);
            }

            var withId = new JsonObject { ["id"] = row.Id.ToString() };
            foreach (var (name, value) in display)
            {
                withId[name] = value?.DeepClone();
            }

            row.Display = text;
            row.Compact = withId.ToJsonString();
            row.Sources = display["sources"]!.ToJsonString();
            row.SearchText = item.SearchText();
            row.EffectiveAt = item.EffectiveAt;
            row.Status = Truncate(item.Winner.Status, 64);
            row.Retracted = item.Retracted;
            row.ContentHash = hash;
            row.Version = version;
            row.UpdatedAt = now;
            row.DeletedAt = null;
            changed++;
        }

        foreach (var gone in existing.Values.Where(r => r.DeletedAt is null && !seen.Contains((r.Category, r.ItemKey))))
        {
            gone.DeletedAt = now;
            gone.Version = version;
            changed++;
        }

        if (changed == 0)
        {
            return null;
        }

        patient.RecordVersion = version;
        patient.RecordUpdatedAt = now;
        // The tenant hears of the new version with it (partners' caches and copies follow the record).
        await webhooks.AddAsync(patient.TenantId, Webhooks.WebhookEventTypes.RecordUpdated, new
        {
            patientId = patient.Id,
            externalId = patient.ExternalId,
            recordVersion = version,
            changed,
        }, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        // In the rebuild's transaction: the stream hears of the version exactly when it is committed.
        await events.AppendAsync(patient.Id, Domain.Events.PatientEventTypes.RecordUpdated, new { recordVersion = version, updatedAt = now, changed }, cancellationToken);
        LogRebuilt(logger, patient.Id, version, changed, merged.Count);
        return version;
    }

    private static string? Truncate(string? value, int length) => value is null || value.Length <= length ? value : value[..length];

    [LoggerMessage(Level = LogLevel.Information, Message = "Record of patient {PatientId} is now version {Version}: {Changed} items changed of {Items}")]
    private static partial void LogRebuilt(ILogger logger, Guid patientId, long version, int changed, int items);
}
