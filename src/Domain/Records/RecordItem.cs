using Aggregator.Domain.Tenants;

namespace Aggregator.Domain.Records;

/// <summary>
/// One fact of a patient's merged record, as every read serves it: the record rebuild is its only writer. Typed columns
/// for what reads filter, sort and plot on; the REST JSON and the FHIR resource (references already rewritten) written
/// to responses as they are.
/// </summary>
public sealed class RecordItem : ITenantOwned
{
    /// <summary>The read model's format: a patient's record built in an older one is built again on migration.</summary>
    public const int Model = 4;

    public Guid Id { get; set; }
    public Guid TenantId { get; set; }
    public Guid PatientId { get; set; }

    /// <summary>Plural kebab-case category (e.g. <c>labs</c>, <c>care-plans</c>).</summary>
    public required string Category { get; set; }

    /// <summary>The de-duplication key that makes this item one fact.</summary>
    public required string ItemKey { get; set; }

    /// <summary>The item as the REST API shows it (JSON, with its id), written to responses as is.</summary>
    public required string Compact { get; set; }

    /// <summary>Lower-case text the <c>q</c> filter matches: the item's display text, its codes and their displays.</summary>
    public string SearchText { get; set; } = "";

    /// <summary>The item's display text.</summary>
    public string? DisplayText { get; set; }

    /// <summary>Every coding of the item, as <c>system|code</c> and as the bare code, for the <c>code</c> filter.</summary>
    public string[] Codes { get; set; } = [];

    public DateTimeOffset? EffectiveAt { get; set; }
    public string? Status { get; set; }

    /// <summary>A measured value as the source wrote it, and in its canonical UCUM unit (what trends convert from).</summary>
    public decimal? ValueNumber { get; set; }

    public string? ValueUnit { get; set; }
    public decimal? NormalizedValue { get; set; }
    public string? NormalizedUnit { get; set; }
    public string? Interpretation { get; set; }

    /// <summary>The reference ranges (JSON array of low, high, unit, text), as trends serve them.</summary>
    public string? ReferenceRange { get; set; }

    /// <summary>Every source resource that states this fact, in the order the item lists them.</summary>
    public List<RecordItemSource> SourceRows { get; set; } = [];

    /// <summary>The FHIR R4 type of <see cref="Fhir"/> (null for a retracted item: the FHIR view leaves those out).</summary>
    public string? FhirType { get; set; }

    /// <summary>
    /// The item as a FHIR R4 resource: the shown source's content under the item's id (the patient's for demographics),
    /// references rewritten to the view's ids; a url that depends on the request's base starts <see cref="StoredFhir.BaseMarker"/>.
    /// </summary>
    public string? Fhir { get; set; }

    /// <summary>The item's Provenance (same id), naming every source.</summary>
    public string? Provenance { get; set; }

    /// <summary>The ids of the supporting resources <see cref="Fhir"/> refers to.</summary>
    public string[] SupportingRefs { get; set; } = [];

    public bool Retracted { get; set; }
    public required byte[] ContentHash { get; set; }

    /// <summary>The patient's record version when this item last changed (the change feed's cursor).</summary>
    public long Version { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? DeletedAt { get; set; }
}

/// <summary>One source resource that states a merged item: which connection, provider and resource.</summary>
public sealed class RecordItemSource : ITenantOwned
{
    public Guid ItemId { get; set; }
    public int Ordinal { get; set; }
    public Guid TenantId { get; set; }
    public Guid PatientId { get; set; }
    public Guid ConnectionId { get; set; }
    public required string Provider { get; set; }

    /// <summary>The type as the provider named it (e.g. <c>MedicationOrder</c> from a DSTU2 server).</summary>
    public required string ResourceType { get; set; }

    public required string ResourceId { get; set; }
    public DateTimeOffset? LastUpdated { get; set; }

    /// <summary>The source whose content the item shows.</summary>
    public bool Shown { get; set; }
}

/// <summary>
/// A resource the FHIR view brings along because items refer to it (Practitioner, Organization, Medication, ...): served
/// inside Bundles under <c>urn:uuid:{id}</c>, never on its own.
/// </summary>
public sealed class RecordSupportingResource : ITenantOwned
{
    public Guid PatientId { get; set; }
    public required string Id { get; set; }
    public Guid TenantId { get; set; }

    /// <summary>Its place in the view (the order items first referred to it).</summary>
    public int Ordinal { get; set; }

    public required string ResourceType { get; set; }
    public required string Fhir { get; set; }

    /// <summary>The ids of the supporting resources it refers to in turn.</summary>
    public string[] SupportingRefs { get; set; } = [];
}

/// <summary>
/// The first page of one listing of the record (a category, or the timeline) as the rebuild rendered it with the record
/// version it belongs to: what every app asks for first after a change, answered from one row instead of a query over
/// the items. Served only while the patient's record is still at <see cref="RecordVersion"/>.
/// </summary>
public sealed class RecordFirstPage : ITenantOwned
{
    /// <summary>The listing of the timeline's first page (no category has this name).</summary>
    public const string Timeline = "timeline";

    public Guid PatientId { get; set; }

    /// <summary>A category's name, or <see cref="Timeline"/>.</summary>
    public required string Listing { get; set; }

    public Guid TenantId { get; set; }

    public long RecordVersion { get; set; }

    /// <summary>The page's JSON as it is sent, UTF-8.</summary>
    public required byte[] Body { get; set; }
}

/// <summary>Stored FHIR JSON made whole for one request.</summary>
public static class StoredFhir
{
    /// <summary>Stands for the request's public base url in stored FHIR JSON (document content urls).</summary>
    public const string BaseMarker = "urn:aggregator:base";

    /// <summary><paramref name="json"/> with the marker replaced by <paramref name="baseUrl"/> (no copy when there is none).</summary>
    public static string ForBase(string json, string baseUrl)
    {
        ArgumentNullException.ThrowIfNull(json);
        return json.Contains("\"" + BaseMarker, StringComparison.Ordinal) ? json.Replace("\"" + BaseMarker, "\"" + baseUrl, StringComparison.Ordinal) : json;
    }
}
