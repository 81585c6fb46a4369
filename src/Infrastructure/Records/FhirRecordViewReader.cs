using System.Text.Json;
using System.Text.Json.Nodes;
using Aggregator.Domain.Records;
using Aggregator.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Infrastructure.Records;

/// <summary>Loads a patient's merged items and their source resources, and builds the FHIR R4 view of them.</summary>
public sealed class FhirRecordViewReader(AggregatorDbContext db)
{
    /// <param name="includeRetracted">Also show items every source retracted (entered in error, refuted).</param>
    /// <param name="documentUrl">Where a document item's content is served, by item id.</param>
    public async Task<FhirRecordView> ReadAsync(Guid patientId, bool includeRetracted, Func<Guid, string> documentUrl, CancellationToken cancellationToken)
    {
        var items = await db.RecordItems.AsNoTracking()
            .Where(i => i.PatientId == patientId && i.DeletedAt == null && (includeRetracted || !i.Retracted))
            .OrderByDescending(i => i.EffectiveAt.HasValue).ThenByDescending(i => i.EffectiveAt).ThenByDescending(i => i.Id)
            .Select(i => new { i.Id, i.Category, i.UpdatedAt, i.Display, i.Sources })
            .ToListAsync(cancellationToken);
        var connections = await db.Connections.AsNoTracking().Where(c => c.PatientId == patientId)
            .Join(db.Providers, c => c.ProviderId, p => p.Id, (c, p) => new { c.Id, p.Name })
            .ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);
        var ids = connections.Keys.ToList();
        var rows = await db.SourceResources.AsNoTracking()
            .Where(r => ids.Contains(r.ConnectionId) && r.DeletedAt == null && r.Resource != null)
            .Select(r => new { r.ConnectionId, r.ResourceType, r.ResourceId, r.LastUpdated, r.Resource })
            .ToListAsync(cancellationToken);

        var documents = new List<JsonDocument>(rows.Count);
        try
        {
            var sources = rows.Select(r =>
            {
                var json = JsonDocument.Parse(r.Resource!);
                documents.Add(json);
                return new FhirViewSource(r.ConnectionId, connections[r.ConnectionId], r.ResourceType, r.ResourceId, r.LastUpdated, json.RootElement);
            }).ToList();
            var viewItems = items.Select(i => ToViewItem(i.Id, i.Category, i.UpdatedAt, i.Display, i.Sources)).ToList();
            return FhirRecordView.Build(patientId, viewItems, sources, documentUrl);
        }
        finally
        {
            foreach (var document in documents)
            {
                document.Dispose();
            }
        }
    }

    private static FhirViewItem ToViewItem(Guid id, string category, DateTimeOffset updatedAt, string display, string sourcesJson)
    {
        var sources = JsonNode.Parse(sourcesJson)!.AsArray().OfType<JsonObject>().ToList();
        var keys = sources.Select(Key).ToList();
        // The source the item shows; rows written before sources said so show the first.
        var shownIndex = sources.FindIndex(s => s["shown"]?.GetValue<bool>() == true);
        var mergedBy = JsonNode.Parse(display)?["mergedBy"]?.GetValue<string>();
        return new FhirViewItem(id, category, updatedAt, mergedBy, keys, keys[Math.Max(shownIndex, 0)]);
    }

    private static SourceKey Key(JsonObject source) => new(
        Guid.Parse(source["connectionId"]!.GetValue<string>()),
        source["resourceType"]!.GetValue<string>(),
        source["resourceId"]!.GetValue<string>());
}
