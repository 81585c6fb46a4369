using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aggregator.Domain.Records;
using Aggregator.Infrastructure.Notifications;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Sync;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Aggregator.Infrastructure.Records;

/// <summary>
/// The single writer of a patient's read model: normalises every stored R4 resource of the patient's connections,
/// de-duplicates them (Domain), and writes each merged item in every form a read serves (typed columns, its sources, the
/// REST JSON, the FHIR resource and Provenance, the supporting resources they refer to), only where something changed,
/// under a new record version; items no longer stated are tombstoned for the change feed. Every Api replica hears the
/// new version through NOTIFY.
/// </summary>
public sealed partial class RecordBuilder(
    AggregatorDbContext db,
    DatabaseNotifications notifications,
    Events.PatientEventLog events,
    Webhooks.WebhookOutbox webhooks,
    Observability.AggregatorMetrics metrics,
    Paging.CursorCodec cursors,
    TimeProvider clock,
    ILogger<RecordBuilder> logger) : IRecordRebuilder
{
    public async Task RebuildAsync(Guid patientId, CancellationToken cancellationToken)
    {
        var started = clock.GetTimestamp();
        var strategy = db.Database.CreateExecutionStrategy();
        var deliveries = db.ChangeTracker.Entries<Domain.Webhooks.WebhookDelivery>().Select(e => e.Entity).ToHashSet();
        long? version;
        try
        {
            version = await strategy.ExecuteAsync(async () =>
            {
                await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
                _staged = false;
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
        }
        catch
        {
            ForgetUnsaved(patientId, deliveries);
            throw;
        }

        if (version is { } changed)
        {
            // This process first (a purge answers right after the rebuild: no cached page of the old version may follow).
            notifications.Announce(NotificationChannels.RecordChanged, $"{patientId}:{changed}");
            webhooks.Dispatch();
        }

        metrics.RecordRebuilt(clock.GetElapsedTime(started));
    }

    /// <summary>
    /// After a failed rebuild (its transaction rolled back): whatever it left tracked in the shared unit of work (record
    /// rows, the patient's new version, hash and summary, the webhook of a version never committed) is dropped, so that
    /// a caller that saves what it tracks (a sync recording its failure) saves none of it.
    /// </summary>
    private void ForgetUnsaved(Guid patientId, HashSet<Domain.Webhooks.WebhookDelivery> before)
    {
        foreach (var entry in db.ChangeTracker.Entries().ToList())
        {
            switch (entry.Entity)
            {
                case Domain.Records.RecordItem or RecordItemSource or RecordSupportingResource:
                case Domain.Webhooks.WebhookDelivery delivery when entry.State == EntityState.Added && !before.Contains(delivery):
                    entry.State = EntityState.Detached;
                    break;
                case Domain.Patients.Patient patient when patient.Id == patientId && entry.State == EntityState.Modified:
                    entry.CurrentValues.SetValues(entry.OriginalValues);
                    entry.State = EntityState.Unchanged;
                    break;
            }
        }
    }

    /// <summary>Returns the new record version when anything changed, else null.</summary>
    private async Task<long?> RebuildLockedAsync(Guid patientId, CancellationToken cancellationToken)
    {
        // Under the lock, from the database: an earlier rebuild in this unit of work may have left the patient and its
        // record tracked as they were then, and another process may have built a newer version since.
        foreach (var entry in db.ChangeTracker.Entries().Where(e => e.State == EntityState.Unchanged
            && e.Entity is Domain.Records.RecordItem or RecordItemSource or RecordSupportingResource).ToList())
        {
            entry.State = EntityState.Detached;
        }

        if (db.ChangeTracker.Entries<Domain.Patients.Patient>().FirstOrDefault(e => e.Entity.Id == patientId) is { State: EntityState.Unchanged } known)
        {
            await known.ReloadAsync(cancellationToken);
        }

        var patient = await db.Patients.SingleAsync(p => p.Id == patientId, cancellationToken);
        // Nothing the record is built from has changed since it was built (a sync that found nothing new): done.
        var inputs = await PatientSources.HashAsync(db, patientId, cancellationToken);
        if (patient.RecordModel == Domain.Records.RecordItem.Model && patient.RecordInputHash is { } built && built.AsSpan().SequenceEqual(inputs))
        {
            return null;
        }

        var (sources, items) = await NormalizeAsync(patientId, cancellationToken);
        return await WriteAsync(patient, RecordMerger.Merge(items), sources, inputs, cancellationToken);
    }

    /// <summary>
    /// Every source of the patient, read once, each normalised as it arrives and its content released at once: a rebuild
    /// holds what the merge needs of every fact, and the content only of the supporting resources the FHIR view brings
    /// along (Medication, Practitioner, ...: facts refer to them too). A fact that refers to a resource whose content is
    /// not held (a report's results, or a resource not read yet) waits, with its own content, until the stream's end;
    /// then what it refers to is read again by row and it is normalised.
    /// </summary>
    private async Task<(List<StoredResource> Sources, List<ClinicalItem> Items)> NormalizeAsync(Guid patientId, CancellationToken cancellationToken)
    {
        var sources = new List<StoredResource>();
        var items = new List<ClinicalItem>();
        // Every resource a fact may point to (the Medication of an order, the results of a report, the order a claim
        // bills), per connection, by R4 reference.
        var byReference = new Dictionary<Guid, Dictionary<string, StoredResource>>();
        var waiting = new List<StoredResource>();
        var shared = new SharedValues();
        await foreach (var resource in PatientSources.StreamAsync(db, patientId, cancellationToken))
        {
            sources.Add(resource);
            if (!byReference.TryGetValue(resource.ConnectionId, out var lookup))
            {
                byReference[resource.ConnectionId] = lookup = new Dictionary<string, StoredResource>(StringComparer.Ordinal);
            }

            lookup.TryAdd($"{resource.Type}/{resource.ResourceId}", resource);
            if (RecordCategory.IsSupporting(resource.Type))
            {
                // Not a fact. The view brings some along (the Medication an order names); the rest (a document's Binary,
                // say) are read again if a fact asks for them.
                if (!FhirRecordView.BringsAlong(resource.Type))
                {
                    resource.ReleaseContent();
                }

                continue;
            }

            var missed = new List<StoredResource?>();
            var item = Normalize(resource, lookup, shared, missed, unknownMisses: true);
            if (missed.Count > 0)
            {
                waiting.Add(resource);
                continue;
            }

            if (item is not null)
            {
                items.Add(item);
            }

            resource.ReleaseContent();
        }

        // What the waiting facts refer to is known now: read the content they need (a chain, such as a claim's order and
        // its Medication, may take a round per link) and normalise them.
        for (var round = 0; waiting.Count > 0; round++)
        {
            var needed = new HashSet<StoredResource>();
            var next = new List<StoredResource>();
            foreach (var resource in waiting)
            {
                var missed = new List<StoredResource?>();
                var item = Normalize(resource, byReference[resource.ConnectionId], shared, missed, unknownMisses: false);
                if (missed.Count > 0 && round < 8)
                {
                    needed.UnionWith(missed.OfType<StoredResource>());
                    next.Add(resource);
                }
                else if (item is not null)
                {
                    items.Add(item);
                }
            }

            await PatientSources.LoadContentAsync(db, [.. needed], cancellationToken);
            waiting = next;
        }

        foreach (var resource in sources.Where(r => r.HasContent && !FhirRecordView.BringsAlong(r.Type)))
        {
            resource.ReleaseContent();
        }

        return (sources, items);
    }

    /// <summary>
    /// One resource as a fact. A reference to a resource whose content is not held is noted in <paramref name="missed"/>
    /// (the resource; null for one not known, when <paramref name="unknownMisses"/>: it may come later in the stream).
    /// </summary>
    private static ClinicalItem? Normalize(
        StoredResource resource, Dictionary<string, StoredResource> lookup, SharedValues shared, List<StoredResource?> missed, bool unknownMisses)
    {
        var source = new SourceRef(resource.ConnectionId, resource.Provider, resource.ResourceType, resource.ResourceId, resource.LastUpdated);
        return ClinicalNormalizer.Normalize(source, resource.Parse(), reference =>
        {
            if (!lookup.TryGetValue(reference, out var found))
            {
                if (unknownMisses)
                {
                    missed.Add(null);
                }

                return null;
            }

            if (!found.HasContent)
            {
                missed.Add(found);
                return null;
            }

            return found.Parse();
        }, shared);
    }

    /// <summary>How many items are rendered, compared and written at a time: what the rebuild holds beyond the merge.</summary>
    private const int ChunkSize = 100;

    /// <summary>What a stored item is, without its JSON: hashes of its REST form and of its FHIR form with its Provenance.</summary>
    private sealed record StoredItem(
        Guid Id, string Category, string ItemKey, byte[] ContentHash, byte[] FhirHash, string[] SupportingRefs, DateTimeOffset UpdatedAt, DateTimeOffset? DeletedAt);

    /// <summary>A merged item and the row it goes to: a stored one (its own, or the one it corrects), or a new one.</summary>
    private sealed record Planned(MergedItem Item, Guid Id, StoredItem? Stored, bool Corrects);

    /// <summary>An item whose row is written: its REST form, and its FHIR form with the Provenance.</summary>
    private sealed record Write(Planned Plan, JsonObject Display, byte[] Hash, bool RestChanged, string? FhirType, string? Fhir, string? Provenance, string[] SupportingRefs);

    /// <param name="inputs">The hash of the sources when the rebuild began, kept only if they are the same at its end.</param>
    private async Task<long?> WriteAsync(
        Domain.Patients.Patient patient, IReadOnlyList<MergedItem> merged, IReadOnlyList<StoredResource> sources, byte[] inputs, CancellationToken cancellationToken)
    {
        var existing = await db.Database.SqlQuery<StoredItem>($"""
            SELECT id, category, item_key, content_hash, supporting_refs, updated_at, deleted_at,
                   sha256(convert_to(coalesce(fhir, '') || chr(10) || coalesce(provenance, ''), 'UTF8')) AS fhir_hash
            FROM record_items WHERE patient_id = {patient.Id}
            """).ToDictionaryAsync(i => (i.Category, i.ItemKey), cancellationToken);
        var version = patient.RecordVersion + 1;
        var now = clock.GetUtcNow();
        // A record built in an older read model format has every item written again, changed or not.
        var upgrade = patient.RecordModel < Domain.Records.RecordItem.Model;
        // New items get ids in the merge's order (version 7 ids of one moment are otherwise in random order), so that
        // items of one date list in the same order however often the record is built.
        var fresh = new Queue<Guid>(Enumerable.Range(0, merged.Count(m => !existing.ContainsKey((m.Category, m.ItemKey))))
            .Select(_ => Guid.CreateVersion7(now)).Order());
        var successors = await SuccessorsAsync(patient.Id, merged, existing, cancellationToken);

        // 1. The row of every item: its own, the one it corrects (a provider changed the fact's value, time or code), or a new one.
        var planned = new List<Planned>(merged.Count);
        foreach (var item in merged)
        {
            planned.Add(existing.TryGetValue((item.Category, item.ItemKey), out var stored) ? new Planned(item, stored.Id, stored, false)
                : successors.Claim(item) is { } corrected ? new Planned(item, corrected.Id, corrected, true)
                : new Planned(item, fresh.Dequeue(), null, false));
        }

        // 2. The FHIR view of the items every source has not retracted, in the order reads list them (supporting resources
        // take their place in the view in the order items first refer to them); retracted items have no FHIR form.
        var shown = planned.Where(p => !p.Item.Retracted)
            .OrderByDescending(p => p.Item.EffectiveAt.HasValue).ThenByDescending(p => p.Item.EffectiveAt).ThenByDescending(p => p.Id)
            .ToList();
        var view = FhirRecordView.Prepare(
            patient.Id,
            shown.Select(p => ViewItem(p, now)),
            sources,
            item => $"{StoredFhir.BaseMarker}/v1/patients/{patient.Id}/documents/{item}/content");

        // 3. Chunk by chunk, in the view's order: each item's REST form and FHIR form, compared by hash with what is
        // stored; what changed is written. `changed` counts what the record's readers see change (an item's REST form,
        // as the change feed lists it); a FHIR form rewritten alone still makes a new version.
        var changed = 0;
        var rewritten = 0;
        string? demographics = null;
        foreach (var chunk in shown.Concat(planned.Where(p => p.Item.Retracted)).Chunk(ChunkSize))
        {
            // The content of the chunk's shown sources, read again for its FHIR forms and let go after them.
            var loaded = chunk.Where(p => !p.Item.Retracted).SelectMany(p => view.ContentFor(ViewItem(p, now))).Where(r => !r.HasContent).ToHashSet();
            await PatientSources.LoadContentAsync(db, loaded, cancellationToken);
            var writes = new List<Write>();
            foreach (var plan in chunk)
            {
                var display = plan.Item.Render();
                if (plan.Item.Category == RecordCategory.Demographics)
                {
                    demographics = Compact(plan.Id, display);
                }

                var hash = SHA256.HashData(Encoding.UTF8.GetBytes(display.ToJsonString()));
                var restChanged = plan.Stored is not { } stored || plan.Corrects || stored.DeletedAt is not null || !stored.ContentHash.AsSpan().SequenceEqual(hash);
                var rendered = plan.Item.Retracted ? null : view.Render(ViewItem(plan, restChanged ? now : plan.Stored!.UpdatedAt));
                var fhir = rendered?.Resource.Resource.ToJsonString();
                var provenance = rendered?.Provenance.Resource.ToJsonString();
                var refs = rendered?.Resource.SupportingRefs.Order(StringComparer.Ordinal).ToArray() ?? [];
                var fhirChanged = plan.Stored is null || !plan.Stored.FhirHash.AsSpan().SequenceEqual(FhirHash(fhir, provenance))
                    || !plan.Stored.SupportingRefs.SequenceEqual(refs);
                if (restChanged || fhirChanged || upgrade)
                {
                    writes.Add(new Write(plan, display, hash, restChanged, rendered?.Resource.ResourceType, fhir, provenance, refs));
                    changed += restChanged ? 1 : 0;
                    rewritten += restChanged || fhirChanged ? 1 : 0;
                }
            }

            foreach (var resource in loaded)
            {
                resource.ReleaseContent();
            }

            await WriteChunkAsync(patient, writes, version, now, upgrade, cancellationToken);
        }

        // 4. Items no source states any more are tombstoned for the change feed.
        var kept = planned.Select(p => p.Id).ToHashSet();
        var gone = existing.Values.Where(r => r.DeletedAt is null && !kept.Contains(r.Id)).Select(r => r.Id).ToList();
        if (gone.Count > 0)
        {
            await db.RecordItems.Where(i => gone.Contains(i.Id)).ExecuteUpdateAsync(set => set
                .SetProperty(i => i.DeletedAt, now)
                .SetProperty(i => i.Version, version)
                .SetProperty(i => i.Fhir, (string?)null)
                .SetProperty(i => i.Provenance, (string?)null)
                .SetProperty(i => i.FhirType, (string?)null), cancellationToken);
            changed += gone.Count;
        }

        // A supporting resource (the Medication an order names) that changed is a new version too, but not a changed item.
        var supportingChanged = await WriteSupportingAsync(patient, view.Supporting, cancellationToken);
        var same = changed == 0 && rewritten == 0 && supportingChanged == 0;
        // The summary names the version it was written with: one an older build left behind is not served.
        patient.RecordSummary = new StoredRecordSummary(
            same ? patient.RecordVersion : version,
            [.. planned.Where(p => !p.Item.Retracted && p.Item.Category != RecordCategory.Demographics)
                .CountBy(p => p.Item.Category).OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => new CategoryTally(c.Key, c.Value))],
            demographics is null ? null : JsonElement.Parse(demographics)).ToJson();
        patient.RecordModel = Domain.Records.RecordItem.Model;
        // A sync that wrote while the rebuild read its sources (they are read in passes): this build may mix two states,
        // so the next one must not be skipped.
        patient.RecordInputHash = (await PatientSources.HashAsync(db, patient.Id, cancellationToken)).AsSpan().SequenceEqual(inputs) ? inputs : null;
        var listed = planned.Where(p => !p.Item.Retracted).Select(p => p.Item.Category).Distinct(StringComparer.Ordinal).ToList();
        if (same)
        {
            // Nothing a reader could tell apart (at most the read model's format, or the inputs' hash): no new version.
            await db.SaveChangesAsync(cancellationToken);
            await WriteFirstPagesAsync(patient, listed, cancellationToken);
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
        await WriteFirstPagesAsync(patient, listed, cancellationToken);
        // In the rebuild's transaction: the stream hears of the version exactly when it is committed.
        await events.AppendAsync(patient.Id, Domain.Events.PatientEventTypes.RecordUpdated, new { recordVersion = version, updatedAt = now, changed }, cancellationToken);
        LogRebuilt(logger, patient.Id, version, changed, merged.Count);
        return version;
    }

    /// <summary>
    /// The first page of the timeline and of every category, rendered from the items just written and kept with the
    /// record's version, in the rebuild's transaction: the Api's first read of a new version is one row. Categories
    /// without a shown item get an empty page without a query.
    /// </summary>
    private async Task WriteFirstPagesAsync(Domain.Patients.Patient patient, IReadOnlyList<string> listed, CancellationToken cancellationToken)
    {
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction() as NpgsqlTransaction;
        await using var pages = RecordItemPages.InTransaction(connection, transaction, patient.TenantId);
        var rendered = await pages.RenderFirstPagesAsync(patient.Id, listed, cursors, cancellationToken);
        await pages.SaveFirstPagesAsync(patient.Id, patient.RecordVersion, rendered, cancellationToken);
    }

    private static FhirViewItem ViewItem(Planned plan, DateTimeOffset updatedAt) => new(
        plan.Id, plan.Item.Category, updatedAt, plan.Item.MergedBy, [.. plan.Item.Members.Select(m => Key(m.Source))], Key(plan.Item.Winner.Source));

    /// <summary>The hash the row-state query computes of a stored FHIR form and its Provenance.</summary>
    private static byte[] FhirHash(string? fhir, string? provenance) => SHA256.HashData(Encoding.UTF8.GetBytes($"{fhir}\n{provenance}"));

    /// <summary>An item's REST form with its id first, as stored and served.</summary>
    private static string Compact(Guid id, JsonObject display)
    {
        var withId = new JsonObject { ["id"] = id.ToString() };
        foreach (var (name, value) in display)
        {
            withId[name] = value?.DeepClone();
        }

        return withId.ToJsonString();
    }

    /// <summary>Writes one chunk's changed items (and their sources), then lets go of them.</summary>
    private async Task WriteChunkAsync(Domain.Patients.Patient patient, List<Write> writes, long version, DateTimeOffset now, bool upgrade, CancellationToken cancellationToken)
    {
        if (writes.Count == 0)
        {
            return;
        }

        var ids = writes.Where(w => w.Plan.Stored is not null).Select(w => w.Plan.Id).ToList();
        var rows = ids.Count == 0 ? [] : await db.RecordItems.Where(i => ids.Contains(i.Id)).ToDictionaryAsync(i => i.Id, cancellationToken);
        var resourced = new List<(Domain.Records.RecordItem Row, MergedItem Item)>();
        // New items (all of a first sync's) go by COPY, untracked: EF Core's tracking and its INSERT per row were most of
        // a first rebuild's writing. Stored items are updated through the context.
        var fresh = new List<(Domain.Records.RecordItem Row, MergedItem Item)>();
        foreach (var (plan, display, hash, restChanged, fhirType, fhir, provenance, refs) in writes)
        {
            var item = plan.Item;
            var isNew = false;
            if (!rows.TryGetValue(plan.Id, out var row))
            {
                isNew = true;
                row = new Domain.Records.RecordItem
                {
                    Id = plan.Id,
                    TenantId = patient.TenantId,
                    PatientId = patient.Id,
                    Category = item.Category,
                    ItemKey = item.ItemKey,
                    Compact = "{}",
                    ContentHash = hash,
                };
                fresh.Add((row, item));
            }

            row.ItemKey = item.ItemKey;
            if (restChanged || upgrade)
            {
                row.Compact = Compact(row.Id, display);
                row.SearchText = item.SearchText();
                row.EffectiveAt = item.EffectiveAt;
                row.Status = Truncate(item.Winner.Status, 64);
                row.Retracted = item.Retracted;
                Project(row, display);
                if (!isNew)
                {
                    resourced.Add((row, item));
                }
            }

            if (restChanged)
            {
                row.ContentHash = hash;
                row.Version = version;
                row.UpdatedAt = now;
                row.DeletedAt = null;
            }

            row.FhirType = fhirType;
            row.Fhir = fhir;
            row.Provenance = provenance;
            row.SupportingRefs = refs;
        }

        await InsertAsync(patient, fresh, cancellationToken);
        await WriteSourcesAsync(patient, resourced, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        foreach (var entry in TrackedAsIs().Where(e => e.Entity is Domain.Records.RecordItem or RecordItemSource).ToList())
        {
            entry.State = EntityState.Detached;
        }
    }

    /// <summary>
    /// What the context tracks, without the scan for changes that <c>Entries()</c> makes by itself: that scan compares
    /// every property of every tracked row with its snapshot (arrays by a compiled comparer each), and a rebuild looked
    /// through the tracked rows twice per chunk, after the save or to drop rows it had just replaced, where no change
    /// can be waiting. SaveChanges still scans once.
    /// </summary>
    private List<Microsoft.EntityFrameworkCore.ChangeTracking.EntityEntry> TrackedAsIs()
    {
        var detecting = db.ChangeTracker.AutoDetectChangesEnabled;
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        try
        {
            return [.. db.ChangeTracker.Entries()];
        }
        finally
        {
            db.ChangeTracker.AutoDetectChangesEnabled = detecting;
        }
    }

    /// <summary>
    /// Items whose key no merged item has any more, by the provider resources they showed: a merged item that is new by
    /// key but comes from one of those resources is that item, corrected, and keeps its id (a lab value amended at the
    /// provider is an update of the result the patient saw, not a new result and a retracted one).
    /// </summary>
    private async Task<Successors> SuccessorsAsync(Guid patientId, IReadOnlyList<MergedItem> merged, Dictionary<(string, string), StoredItem> existing, CancellationToken cancellationToken)
    {
        var keys = merged.Select(m => (m.Category, m.ItemKey)).ToHashSet();
        var orphans = existing.Values.Where(r => r.DeletedAt is null && !keys.Contains((r.Category, r.ItemKey))).ToDictionary(r => r.Id);
        if (orphans.Count == 0 || merged.All(m => existing.ContainsKey((m.Category, m.ItemKey))))
        {
            return new Successors([]);
        }

        var orphanIds = orphans.Keys.ToList();
        var sources = await db.RecordItemSources.AsNoTracking()
            .Where(s => s.PatientId == patientId && orphanIds.Contains(s.ItemId))
            .OrderByDescending(s => s.Shown).ThenBy(s => s.ItemId).ThenBy(s => s.Ordinal)
            .ToListAsync(cancellationToken);
        var bySource = new Dictionary<SourceKey, StoredItem>();
        foreach (var source in sources)
        {
            if (orphans.TryGetValue(source.ItemId, out var row))
            {
                bySource.TryAdd(new SourceKey(source.ConnectionId, source.ResourceType, source.ResourceId), row);
            }
        }

        return new Successors(bySource);
    }

    private sealed class Successors(Dictionary<SourceKey, StoredItem> bySource)
    {
        private readonly HashSet<Guid> claimed = [];

        /// <summary>The orphaned item of the same category that showed the item's winner (or else another member).</summary>
        public StoredItem? Claim(MergedItem item)
        {
            foreach (var member in item.Members.Select(m => m.Source).Prepend(item.Winner.Source))
            {
                if (bySource.GetValueOrDefault(Key(member)) is { } row && row.Category == item.Category && claimed.Add(row.Id))
                {
                    return row;
                }
            }

            return null;
        }
    }

    private static SourceKey Key(SourceRef source) => new(source.ConnectionId, source.ResourceType, source.ResourceId);

    /// <summary>The typed columns reads filter and plot on, from the item's REST form.</summary>
    private static void Project(Domain.Records.RecordItem row, JsonObject display)
    {
        row.DisplayText = display["display"] is JsonValue text && text.TryGetValue<string>(out var words) ? words : null;
        var codes = new List<string>();
        foreach (var coding in display["codes"] as JsonArray ?? [])
        {
            if (coding?["code"] is JsonValue code && code.TryGetValue<string>(out var bare))
            {
                codes.Add(bare);
                if (coding["system"] is JsonValue system && system.TryGetValue<string>(out var url))
                {
                    codes.Add(url + "|" + bare);
                }
            }
        }

        row.Codes = [.. codes.Distinct(StringComparer.Ordinal)];
        var value = display["value"] as JsonObject;
        var normalized = display["normalized"] as JsonObject;
        row.ValueNumber = Number(value?["value"]);
        row.ValueUnit = Text(value?["unit"]);
        row.NormalizedValue = Number(normalized?["value"]);
        row.NormalizedUnit = Text(normalized?["unit"]);
        row.Interpretation = Text(display["interpretation"]);
        row.ReferenceRange = display["referenceRange"] is JsonArray ranges ? ranges.ToJsonString() : null;
    }

    private static decimal? Number(JsonNode? node) => node is JsonValue value && value.GetValueKind() == JsonValueKind.Number ? value.GetValue<decimal>() : null;

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    /// <summary>
    /// New items and their sources, by binary COPY into temporary tables of the same shape and one INSERT from each (COPY
    /// straight into a table under row-level security is refused; the INSERT is checked against its policy like any).
    /// </summary>
    private async Task InsertAsync(Domain.Patients.Patient patient, List<(Domain.Records.RecordItem Row, MergedItem Item)> fresh, CancellationToken cancellationToken)
    {
        if (fresh.Count == 0)
        {
            return;
        }

        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        if (!_staged)
        {
            // In the rebuild's transaction: rolled back with it, and then made again by the next rebuild. The items' JSON is
            // compressed once, here, and the INSERT moves it as it is: so with the real table's method (LZ4), not the default.
            await db.Database.ExecuteSqlRawAsync(
                """
                CREATE TEMP TABLE IF NOT EXISTS record_items_staging (LIKE record_items INCLUDING COMPRESSION);
                CREATE TEMP TABLE IF NOT EXISTS record_item_sources_staging (LIKE record_item_sources);
                """,
                cancellationToken);
            _staged = true;
        }

        await connection.CopyAsync("record_items_staging", ItemColumns, fresh.Select(f => f.Row), async (copy, row) =>
        {
            await copy.WriteAsync(row.Id, NpgsqlDbType.Uuid, cancellationToken);
            await copy.WriteAsync(row.TenantId, NpgsqlDbType.Uuid, cancellationToken);
            await copy.WriteAsync(row.PatientId, NpgsqlDbType.Uuid, cancellationToken);
            await copy.WriteAsync(row.Category, NpgsqlDbType.Varchar, cancellationToken);
            await copy.WriteAsync(row.ItemKey, NpgsqlDbType.Varchar, cancellationToken);
            await copy.WriteAsync(row.Compact, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(row.SearchText, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteOrNullAsync(row.DisplayText, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(row.Codes, NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken);
            await copy.WriteOrNullAsync(row.EffectiveAt, cancellationToken);
            await copy.WriteOrNullAsync(row.Status, NpgsqlDbType.Varchar, cancellationToken);
            await copy.WriteOrNullAsync(row.ValueNumber, NpgsqlDbType.Numeric, cancellationToken);
            await copy.WriteOrNullAsync(row.ValueUnit, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteOrNullAsync(row.NormalizedValue, NpgsqlDbType.Numeric, cancellationToken);
            await copy.WriteOrNullAsync(row.NormalizedUnit, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteOrNullAsync(row.Interpretation, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteOrNullAsync(row.ReferenceRange, NpgsqlDbType.Jsonb, cancellationToken);
            await copy.WriteOrNullAsync(row.FhirType, NpgsqlDbType.Varchar, cancellationToken);
            await copy.WriteOrNullAsync(row.Fhir, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteOrNullAsync(row.Provenance, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(row.SupportingRefs, NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(row.Retracted, NpgsqlDbType.Boolean, cancellationToken);
            await copy.WriteAsync(row.ContentHash, NpgsqlDbType.Bytea, cancellationToken);
            await copy.WriteAsync(row.Version, NpgsqlDbType.Bigint, cancellationToken);
            await copy.WriteOrNullAsync(row.UpdatedAt, cancellationToken);
            await copy.WriteOrNullAsync(row.DeletedAt, cancellationToken);
        }, cancellationToken);

        await connection.CopyAsync("record_item_sources_staging", SourceColumns, fresh.SelectMany(f => SourceRows(patient, f.Row.Id, f.Item)), async (copy, source) =>
        {
            await copy.WriteAsync(source.ItemId, NpgsqlDbType.Uuid, cancellationToken);
            await copy.WriteAsync(source.Ordinal, NpgsqlDbType.Integer, cancellationToken);
            await copy.WriteAsync(source.TenantId, NpgsqlDbType.Uuid, cancellationToken);
            await copy.WriteAsync(source.PatientId, NpgsqlDbType.Uuid, cancellationToken);
            await copy.WriteAsync(source.ConnectionId, NpgsqlDbType.Uuid, cancellationToken);
            await copy.WriteAsync(source.Provider, NpgsqlDbType.Varchar, cancellationToken);
            await copy.WriteAsync(source.ResourceType, NpgsqlDbType.Varchar, cancellationToken);
            await copy.WriteAsync(source.ResourceId, NpgsqlDbType.Varchar, cancellationToken);
            await copy.WriteOrNullAsync(source.LastUpdated, cancellationToken);
            await copy.WriteAsync(source.Shown, NpgsqlDbType.Boolean, cancellationToken);
        }, cancellationToken);

        // Through the context, whose interceptor sets the tenant's session. TRUNCATE, not DELETE: no vacuum visits a
        // temporary table, so deleted rows would stay for every later chunk to scan past.
        await db.Database.ExecuteSqlRawAsync(
            $"""
            INSERT INTO record_items ({ItemColumns}) SELECT {ItemColumns} FROM record_items_staging;
            INSERT INTO record_item_sources ({SourceColumns}) SELECT {SourceColumns} FROM record_item_sources_staging;
            TRUNCATE record_items_staging, record_item_sources_staging;
            """,
            cancellationToken);
    }

    private const string ItemColumns =
        "id, tenant_id, patient_id, category, item_key, compact, search_text, display_text, codes, effective_at, status, value_number, value_unit, "
        + "normalized_value, normalized_unit, interpretation, reference_range, fhir_type, fhir, provenance, supporting_refs, retracted, content_hash, "
        + "version, updated_at, deleted_at";

    /// <summary>Whether this rebuild's transaction has made the staging tables (at its first new item).</summary>
    private bool _staged;

    private const string SourceColumns = "item_id, ordinal, tenant_id, patient_id, connection_id, provider, resource_type, resource_id, last_updated, shown";

    /// <summary>An item's source rows: every member in the merge's order, the one whose content the record shows marked.</summary>
    private static IEnumerable<RecordItemSource> SourceRows(Domain.Patients.Patient patient, Guid itemId, MergedItem item) =>
        item.Members.Select((m, i) => new RecordItemSource
        {
            ItemId = itemId,
            Ordinal = i,
            TenantId = patient.TenantId,
            PatientId = patient.Id,
            ConnectionId = m.Source.ConnectionId,
            Provider = Truncate(m.Source.Provider, 200)!,
            ResourceType = m.Source.ResourceType,
            ResourceId = m.Source.ResourceId,
            LastUpdated = m.Source.LastUpdated,
            Shown = m.Source == item.Winner.Source,
        });

    /// <summary>Replaces the source rows of the stored items written (whose sources may have changed).</summary>
    private async Task WriteSourcesAsync(
        Domain.Patients.Patient patient, List<(Domain.Records.RecordItem Row, MergedItem Item)> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return;
        }

        var ids = rows.Select(r => r.Row.Id).ToList();
        await db.RecordItemSources.Where(s => ids.Contains(s.ItemId)).ExecuteDeleteAsync(cancellationToken);
        // Rows an earlier rebuild in this unit of work added are still tracked: they are gone now, and so is their entry.
        var written = ids.ToHashSet();
        foreach (var stale in TrackedAsIs().Where(e => e.Entity is RecordItemSource source && written.Contains(source.ItemId)))
        {
            stale.State = EntityState.Detached;
        }

        foreach (var (row, item) in rows)
        {
            db.RecordItemSources.AddRange(SourceRows(patient, row.Id, item));
        }
    }

    /// <summary>Writes the supporting resources of the view where they changed; returns how many did.</summary>
    private async Task<int> WriteSupportingAsync(Domain.Patients.Patient patient, IReadOnlyList<FhirViewResource> supporting, CancellationToken cancellationToken)
    {
        var stored = await db.RecordSupportingResources.Where(s => s.PatientId == patient.Id).ToDictionaryAsync(s => s.Id, StringComparer.Ordinal, cancellationToken);
        var changed = 0;
        for (var i = 0; i < supporting.Count; i++)
        {
            var resource = supporting[i];
            var json = resource.Resource.ToJsonString();
            var refs = resource.SupportingRefs.Order(StringComparer.Ordinal).ToArray();
            if (!stored.Remove(resource.Id, out var row))
            {
                db.RecordSupportingResources.Add(new RecordSupportingResource
                {
                    PatientId = patient.Id, Id = resource.Id, TenantId = patient.TenantId, Ordinal = i, ResourceType = resource.ResourceType, Fhir = json, SupportingRefs = refs,
                });
                changed++;
            }
            else if (row.Ordinal != i || row.Fhir != json || row.ResourceType != resource.ResourceType || !row.SupportingRefs.SequenceEqual(refs))
            {
                (row.Ordinal, row.Fhir, row.ResourceType, row.SupportingRefs) = (i, json, resource.ResourceType, refs);
                changed++;
            }
        }

        db.RecordSupportingResources.RemoveRange(stored.Values);
        return changed + stored.Count;
    }

    private static string? Truncate(string? value, int length) => value is null || value.Length <= length ? value : value[..length];

    [LoggerMessage(Level = LogLevel.Information, Message = "Record of patient {PatientId} is now version {Version}: {Changed} items changed of {Items}")]
    private static partial void LogRebuilt(ILogger logger, Guid patientId, long version, int changed, int items);
}
