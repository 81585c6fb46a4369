using System.Text.Json;
using Aggregator.Domain.Records;
using Aggregator.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Infrastructure.Records;

/// <summary>
/// Every live stored resource (R4) of a patient's bound connections, parsed, with the provider that served
/// it: what the record rebuild and the FHIR view both read. A connection whose binding the tenant has not
/// confirmed is quarantined: what it fetched is left out. Holds the parsed documents until disposed.
/// </summary>
public sealed class PatientSources : IDisposable
{
    private readonly List<JsonDocument> _documents;

    private PatientSources(List<JsonDocument> documents, IReadOnlyList<StoredResource> resources)
    {
        _documents = documents;
        Resources = resources;
    }

    public IReadOnlyList<StoredResource> Resources { get; }

    public static async Task<PatientSources> LoadAsync(AggregatorDbContext db, Guid patientId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var providers = await db.Connections.Where(c => c.PatientId == patientId && c.ConfirmedAt != null)
            .Join(db.Providers, c => c.ProviderId, p => p.Id, (c, p) => new { c.Id, p.Name })
            .ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);
        var ids = providers.Keys.ToList();
        var rows = await db.SourceResources.AsNoTracking()
            .Where(r => ids.Contains(r.ConnectionId) && r.DeletedAt == null && r.Resource != null)
            .Select(r => new { r.ConnectionId, r.ResourceType, r.ResourceId, r.LastUpdated, r.Resource })
            .ToListAsync(cancellationToken);
        var documents = new List<JsonDocument>(rows.Count);
        var resources = new List<StoredResource>(rows.Count);
        try
        {
            foreach (var row in rows)
            {
                var document = JsonDocument.Parse(row.Resource!);
                documents.Add(document);
                resources.Add(new StoredResource(row.ConnectionId, providers[row.ConnectionId], row.ResourceType, row.ResourceId, row.LastUpdated, document.RootElement));
            }
        }
        catch
        {
            documents.ForEach(d => d.Dispose());
            throw;
        }

        return new PatientSources(documents, resources);
    }

    public void Dispose() => _documents.ForEach(d => d.Dispose());
}
