using Aggregator.Domain.Patients;
using Aggregator.Infrastructure.Paging;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Tenants;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Infrastructure.Patients;

public sealed record PatientPage(IReadOnlyList<Patient> Items, string? NextCursor);

/// <summary>A tenant's patients, known by the tenant's own external ids.</summary>
public sealed class PatientRegistry(AggregatorDbContext db, CurrentTenant tenant, CursorCodec cursors, TimeProvider clock)
{
    public const int MaxExternalIdLength = 200;

    /// <summary>Creates the patient on first use of an external id; afterwards returns the same one.</summary>
    public async Task<(Patient Patient, bool Created)> EnsureAsync(string externalId, CancellationToken cancellationToken)
    {
        var tenantId = tenant.Required;
        var id = Guid.CreateVersion7();
        // One statement, so that concurrent PUTs of one external id agree on one patient.
        var inserted = await db.Database.ExecuteSqlInterpolatedAsync(
            $"""
            INSERT INTO patients (id, tenant_id, external_id, created_at, record_version)
            VALUES ({id}, {tenantId}, {externalId}, {clock.GetUtcNow()}, 0)
            ON CONFLICT (tenant_id, external_id) DO NOTHING
            """,
            cancellationToken);
        var patient = await db.Patients.AsNoTracking().SingleAsync(p => p.ExternalId == externalId, cancellationToken);
        return (patient, inserted == 1);
    }

    public Task<Patient?> FindAsync(Guid id, CancellationToken cancellationToken) =>
        db.Patients.AsNoTracking().SingleOrDefaultAsync(p => p.Id == id, cancellationToken);

    public Task<Patient?> FindByExternalIdAsync(string externalId, CancellationToken cancellationToken) =>
        db.Patients.AsNoTracking().SingleOrDefaultAsync(p => p.ExternalId == externalId, cancellationToken);

    public async Task<PatientPage> ListAsync(int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var take = CursorCodec.ClampLimit(limit);
        var listing = $"patients:{tenant.Required}";
        var query = db.Patients.AsNoTracking();
        if (!string.IsNullOrEmpty(cursor))
        {
            var after = cursors.Decode<Guid>(listing, cursor);
            query = query.Where(p => p.Id.CompareTo(after) > 0);
        }

        var rows = await query.OrderBy(p => p.Id).Take(take + 1).ToListAsync(cancellationToken);
        var next = rows.Count > take ? cursors.Encode(listing, rows[take - 1].Id) : null;
        return new PatientPage(rows.Take(take).ToList(), next);
    }

    public static string? ValidateExternalId(string externalId) =>
        string.IsNullOrWhiteSpace(externalId) ? "The external id is empty."
        : externalId.Length > MaxExternalIdLength ? $"The external id is longer than {MaxExternalIdLength} characters."
        : externalId.Any(char.IsControl) ? "The external id contains control characters."
        : null;
}
