using Aggregator.Domain.Tenants;

namespace Aggregator.Domain.Patients;

/// <summary>One of a tenant's end users, known to the tenant by its own external id.</summary>
public sealed class Patient : ITenantOwned
{
    public Guid Id { get; set; }
    public Guid TenantId { get; set; }
    public required string ExternalId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Grows each time the merged record changes; drives ETags and the read cache.</summary>
    public long RecordVersion { get; set; }

    public DateTimeOffset? RecordUpdatedAt { get; set; }

    /// <summary>The read model format the record was last built in (<see cref="Records.RecordItem.Model"/>); older is rebuilt on migration.</summary>
    public int RecordModel { get; set; } = Records.RecordItem.Model;

    /// <summary>
    /// A hash of everything the record was last built from (each live source resource's identity and content hash, its
    /// connection and provider): a rebuild whose inputs hash the same, in the same format, has nothing to do.
    /// </summary>
    public byte[]? RecordInputHash { get; set; }

    /// <summary>
    /// The record's summary as the rebuild wrote it with the items: JSON with <c>categories</c> (each with its count of
    /// items shown) and <c>demographics</c> (the merged patient's item); the record summary reads it with the version.
    /// </summary>
    public string? RecordSummary { get; set; }

    /// <summary>The id of the patient's latest event (the events stream's per-patient sequence).</summary>
    public long EventSequence { get; set; }

    /// <summary>Session tokens issued before this instant no longer work (the patient signed out everywhere).</summary>
    public DateTimeOffset? SessionsRevokedBefore { get; set; }
}
