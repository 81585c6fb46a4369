using Aggregator.Domain.Tenants;

namespace Aggregator.Domain.Records;

/// <summary>One fact of a patient's merged record, precomputed for reads.</summary>
public sealed class RecordItem : ITenantOwned
{
    public Guid Id { get; set; }
    public Guid TenantId { get; set; }
    public Guid PatientId { get; set; }

    /// <summary>Plural kebab-case category (e.g. <c>labs</c>, <c>care-plans</c>).</summary>
    public required string Category { get; set; }

    /// <summary>The de-duplication key that makes this item one fact.</summary>
    public required string ItemKey { get; set; }

    /// <summary>The item as the API shows it (JSON).</summary>
    public required string Display { get; set; }

    /// <summary>Compact pre-rendered JSON, written to responses as is.</summary>
    public required string Compact { get; set; }

    /// <summary>Lower-case text the <c>q</c> filter matches: the item's display text, its codes and their displays.</summary>
    public string SearchText { get; set; } = "";

    public DateTimeOffset? EffectiveAt { get; set; }
    public string? Status { get; set; }

    /// <summary>Every source resource that states this fact (JSON).</summary>
    public required string Sources { get; set; }

    public bool Retracted { get; set; }
    public required byte[] ContentHash { get; set; }

    /// <summary>The patient's record version when this item last changed (the change feed's cursor).</summary>
    public long Version { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? DeletedAt { get; set; }
}
