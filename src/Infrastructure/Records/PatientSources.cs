using System.Text;
using Aggregator.Domain.Records;
using Aggregator.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Infrastructure.Records;

/// <summary>
/// Every live stored resource (R4) of a patient's bound connections, with the provider that served it: what the
/// record rebuild reads. A connection whose binding the tenant has not confirmed is quarantined: what it fetched is
/// left out. Rows are read one at a time, each kept as UTF-8 JSON (about a third of a parsed document's size), and a
/// rebuild lets go of what it no longer needs and reads it again by row when it does.
/// </summary>
public static class PatientSources
{
    /// <summary>The sources one row at a time, each with its content (the caller decides what to keep).</summary>
    public static async IAsyncEnumerable<StoredResource> StreamAsync(
        AggregatorDbContext db, Guid patientId, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var providers = await db.Connections.Where(c => c.PatientId == patientId && c.ConfirmedAt != null)
            .Join(db.Providers, c => c.ProviderId, p => p.Id, (c, p) => new { c.Id, p.Name })
            .ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);
        var ids = providers.Keys.ToList();
        var rows = db.SourceResources.AsNoTracking()
            .Where(r => ids.Contains(r.ConnectionId) && r.DeletedAt == null && r.Resource != null)
            .Select(r => new { r.Id, r.ConnectionId, r.ResourceType, r.ResourceId, r.LastUpdated, r.Resource })
            .AsAsyncEnumerable();
        // One string per type name, not one per row: a rebuild knows every resource of the patient at once.
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var row in rows.WithCancellation(cancellationToken))
        {
            var type = types.TryGetValue(row.ResourceType, out var known) ? known : types[row.ResourceType] = row.ResourceType;
            yield return new StoredResource(row.ConnectionId, providers[row.ConnectionId], type, row.ResourceId, row.LastUpdated, Encoding.UTF8.GetBytes(row.Resource!), row.Id);
        }
    }

    /// <summary>
    /// Reads the content of released sources again, by row, in one query; returns how many were no longer there (a
    /// sync removed or erased them since the rebuild began: their content stays released).
    /// </summary>
    public static async Task<int> LoadContentAsync(AggregatorDbContext db, IReadOnlyCollection<StoredResource> released, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(released);
        if (released.Count == 0)
        {
            return 0;
        }

        var byRow = released.ToDictionary(r => r.StoreId);
        var ids = byRow.Keys.ToArray();
        var rows = db.SourceResources.AsNoTracking()
            .Where(r => ids.Contains(r.Id) && r.Resource != null)
            .Select(r => new { r.Id, r.Resource })
            .AsAsyncEnumerable();
        var found = 0;
        await foreach (var row in rows.WithCancellation(cancellationToken))
        {
            byRow[row.Id].LoadContent(Encoding.UTF8.GetBytes(row.Resource!));
            found++;
        }

        return byRow.Count - found;
    }

    /// <summary>
    /// A hash of what <see cref="StreamAsync"/> reads, without reading it: each live resource of the confirmed connections
    /// by connection, provider name, type, id, content hash and last-updated time. Equal hashes, equal inputs to the
    /// rebuild (a change in how a record is built from them is a new <see cref="Domain.Records.RecordItem.Model"/>).
    /// </summary>
    public static async Task<byte[]> HashAsync(AggregatorDbContext db, Guid patientId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        return await db.Database.SqlQuery<byte[]>($"""
            SELECT sha256(convert_to(coalesce(string_agg(
                       concat_ws('|', r.connection_id, p.name, r.resource_type, r.resource_id, encode(r.content_hash, 'hex'), extract(epoch FROM r.last_updated)),
                       chr(10) ORDER BY r.connection_id, r.resource_type, r.resource_id), ''), 'UTF8')) AS "Value"
            FROM source_resources r
            JOIN connections c ON c.id = r.connection_id
            JOIN providers p ON p.id = c.provider_id
            WHERE c.patient_id = {patientId} AND c.confirmed_at IS NOT NULL AND r.deleted_at IS NULL AND r.resource IS NOT NULL
            """).SingleAsync(cancellationToken);
    }
}
