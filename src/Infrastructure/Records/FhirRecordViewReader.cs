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
        using var sources = await PatientSources.LoadAsync(db, patientId, cancellationToken);
        var viewItems = items.Select(i => ToViewItem(i.Id, i.Category, i.UpdatedAt, i.Display, i.Sources)).ToList();
        return FhirRecordView.Build(patientId, viewItems, sources.Resources, documentUrl);
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
