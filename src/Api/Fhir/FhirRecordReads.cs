using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Aggregator.Api.Auditing;
using Aggregator.Api.Authentication;
using Aggregator.Api.Records;
using Aggregator.Domain.Records;
using Aggregator.Infrastructure.Connections;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Records;
using Aggregator.Infrastructure.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aggregator.Api.Fhir;

/// <summary>One resource of the FHIR view as stored: the merged item it stands for (null for a supporting resource) and what it refers to.</summary>
public sealed record FhirRow(string ResourceType, string Id, string Json, Guid? ItemId, string[] Refs)
{
    /// <summary>Where the resource is found in a Bundle: its url on this server, or its urn:uuid when it is served only inside Bundles.</summary>
    public string FullUrl(string baseUrl) => ItemId is null ? "urn:uuid:" + Id : $"{baseUrl}{FhirEndpoints.Base}/{ResourceType}/{Id}";
}

/// <summary>
/// Reads of the FHIR view from the read model the record rebuild wrote (each resource stored with its references
/// rewritten): rows in the record's order, streamed; and answers of one request through the record page cache.
/// </summary>
public sealed class FhirRecordReads(AggregatorDbContext db, RecordPageCache cache, CurrentTenant tenant, IOptions<ApiPublicOptions> options)
{
    /// <param name="render">Renders the response body for the request's base url, or null when what was asked for is not there.</param>
    public async Task<IResult> RespondAsync(
        HttpContext http, Guid patientId, string query, Func<string, Task<string?>> render, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(render);
        var baseUrl = PublicUrls.Base(http, options.Value);
        var cacheKey = "fhir:" + baseUrl + ":" + query;
        if (!PatientAccess.Allows(http.User, patientId))
        {
            return PatientMissing();
        }

        http.Items[AuditEndpoints.PatientItem] = patientId;
        var generation = cache.Generation; // before the read: a page read while the cache forgets is not kept
        if (cache.TryGet(tenant.Required, patientId, cacheKey, out var hit))
        {
            return Answer(http, hit);
        }

        // The version and every query of the body from one snapshot: the version labels (and keys in the cache) exactly
        // what the body holds, and a rebuild that commits between two of its queries (the items, then their
        // Provenances) is not half in it.
        await using var snapshot = await ReadSnapshot.BeginAsync(db, cancellationToken);
        var version = await db.Patients.AsNoTracking().Where(p => p.Id == patientId).Select(p => (long?)p.RecordVersion).SingleOrDefaultAsync(cancellationToken);
        if (version is null)
        {
            return PatientMissing();
        }

        var etag = RecordEndpoints.ETag(version.Value, cacheKey);
        if (http.Request.Headers.IfNoneMatch.Contains(etag))
        {
            return RecordEndpoints.NotModified(http, etag);
        }

        var body = await render(baseUrl);
        if (body is null)
        {
            return FhirEndpoints.Outcome(StatusCodes.Status404NotFound, "not-found", "No such resource in this patient's record.");
        }

        var page = new CachedPage(tenant.Required, version.Value, body, etag);
        cache.Set(patientId, cacheKey, page, generation);
        return Answer(http, page);
    }

    /// <summary>The items every source has not retracted, newest first (undated last), as the REST record lists them.</summary>
    private IQueryable<RecordItem> Live(Guid patientId) =>
        db.RecordItems.AsNoTracking().Where(i => i.PatientId == patientId && i.DeletedAt == null && !i.Retracted);

    private static IOrderedQueryable<RecordItem> InRecordOrder(IQueryable<RecordItem> items) =>
        items.OrderByDescending(i => i.EffectiveAt.HasValue).ThenByDescending(i => i.EffectiveAt).ThenByDescending(i => i.Id);

    /// <summary>The merged Patient, if any provider has sent one.</summary>
    public async Task<FhirRow?> PatientAsync(Guid patientId, CancellationToken cancellationToken)
    {
        var row = await Live(patientId).Where(i => i.Category == RecordCategory.Demographics && i.Fhir != null)
            .Select(i => new { i.Id, i.Fhir, i.SupportingRefs }).FirstOrDefaultAsync(cancellationToken);
        return row is null ? null : new FhirRow("Patient", patientId.ToString(), row.Fhir!, row.Id, row.SupportingRefs);
    }

    /// <summary>One resource per merged item (the patient's aside), of the given types or all, in the record's order.</summary>
    public async IAsyncEnumerable<FhirRow> ItemsAsync(
        Guid patientId, IReadOnlyCollection<string>? types, string baseUrl, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var items = Live(patientId).Where(i => i.Category != RecordCategory.Demographics && i.Fhir != null);
        if (types is not null)
        {
            var wanted = types.ToList();
            items = items.Where(i => wanted.Contains(i.FhirType!));
        }

        await foreach (var row in InRecordOrder(items).Select(i => new { i.Id, i.FhirType, i.Fhir, i.SupportingRefs, i.Category }).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            yield return new FhirRow(row.FhirType!, row.Id.ToString(), Served(row.Category, row.Fhir!, baseUrl), row.Id, row.SupportingRefs);
        }
    }

    /// <summary>One item, by its id and FHIR type.</summary>
    public async Task<FhirRow?> ItemAsync(Guid patientId, string type, Guid itemId, string baseUrl, CancellationToken cancellationToken)
    {
        var row = await Live(patientId).Where(i => i.Id == itemId && i.Category != RecordCategory.Demographics && i.FhirType == type && i.Fhir != null)
            .Select(i => new { i.Fhir, i.SupportingRefs, i.Category }).FirstOrDefaultAsync(cancellationToken);
        return row is null ? null
            : new FhirRow(type, itemId.ToString(), Served(row.Category, row.Fhir!, baseUrl), itemId, row.SupportingRefs);
    }

    /// <summary>An item's stored resource as served: a document's content url is stored relative to the request's base.</summary>
    private static string Served(string category, string fhir, string baseUrl) =>
        category == RecordCategory.Documents ? StoredFhir.ForBase(fhir, baseUrl) : fhir;

    /// <summary>The resources the items bring along, of the given types or all, in the view's order.</summary>
    public async IAsyncEnumerable<FhirRow> SupportingAsync(
        Guid patientId, IReadOnlyCollection<string>? types, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var rows = db.RecordSupportingResources.AsNoTracking().Where(s => s.PatientId == patientId);
        if (types is not null)
        {
            var wanted = types.ToList();
            rows = rows.Where(s => wanted.Contains(s.ResourceType));
        }

        await foreach (var row in rows.OrderBy(s => s.Ordinal).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            yield return new FhirRow(row.ResourceType, row.Id, row.Fhir, null, row.SupportingRefs);
        }
    }

    /// <summary>The Provenance of every item (the patient's included), or of the given items, in the record's order.</summary>
    public async IAsyncEnumerable<FhirRow> ProvenancesAsync(
        Guid patientId, IReadOnlyCollection<Guid>? targets, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var items = Live(patientId).Where(i => i.Provenance != null);
        if (targets is not null)
        {
            var wanted = targets.ToList();
            items = items.Where(i => wanted.Contains(i.Id));
        }

        await foreach (var row in InRecordOrder(items).Select(i => new { i.Id, i.Provenance }).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            yield return new FhirRow("Provenance", row.Id.ToString(), row.Provenance!, row.Id, []);
        }
    }

    /// <summary>One Provenance, by its item's id.</summary>
    public async Task<FhirRow?> ProvenanceAsync(Guid patientId, Guid itemId, CancellationToken cancellationToken)
    {
        var json = await Live(patientId).Where(i => i.Id == itemId && i.Provenance != null).Select(i => i.Provenance).FirstOrDefaultAsync(cancellationToken);
        return json is null ? null : new FhirRow("Provenance", itemId.ToString(), json, itemId, []);
    }

    /// <summary>The FHIR types the view holds for the patient.</summary>
    public async Task<SortedSet<string>> TypesAsync(Guid patientId, CancellationToken cancellationToken)
    {
        var types = new SortedSet<string>(StringComparer.Ordinal);
        types.UnionWith(await Live(patientId).Where(i => i.Fhir != null).Select(i => i.FhirType!).Distinct().ToListAsync(cancellationToken));
        types.UnionWith(await db.RecordSupportingResources.AsNoTracking().Where(s => s.PatientId == patientId).Select(s => s.ResourceType).Distinct().ToListAsync(cancellationToken));
        if (await Live(patientId).AnyAsync(i => i.Provenance != null, cancellationToken))
        {
            types.Add("Provenance");
        }

        return types;
    }

    /// <summary>A searchset Bundle of the entries (mode <c>match</c> or <c>include</c>), stored resources written as they are.</summary>
    public static string Bundle(string baseUrl, string self, IReadOnlyCollection<(FhirRow Row, string Mode)> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteBundleStart(writer, "searchset", DateTimeOffset.UtcNow);
            writer.WriteNumber("total", entries.Count(e => e.Mode == "match"));
            writer.WriteStartArray("link");
            writer.WriteStartObject();
            writer.WriteString("relation", "self");
            writer.WriteString("url", baseUrl + self);
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteStartArray("entry");
            foreach (var (row, mode) in entries)
            {
                WriteEntryStart(writer, row.FullUrl(baseUrl), row.Json);
                writer.WriteStartObject("search");
                writer.WriteString("mode", mode);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Opens a Bundle of <paramref name="type"/>: its id and <c>meta.lastUpdated</c> (the caller writes the rest and closes it).</summary>
    public static void WriteBundleStart(Utf8JsonWriter writer, string type, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteString("resourceType", "Bundle");
        writer.WriteString("id", Guid.CreateVersion7().ToString());
        writer.WriteStartObject("meta");
        writer.WriteString("lastUpdated", Instant(now));
        writer.WriteEndObject();
        writer.WriteString("type", type);
    }

    /// <summary>Opens a Bundle entry with its fullUrl and the stored resource written as it is (the caller closes it).</summary>
    public static void WriteEntryStart(Utf8JsonWriter writer, string fullUrl, string json)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteString("fullUrl", fullUrl);
        writer.WritePropertyName("resource");
        writer.WriteRawValue(json, skipInputValidation: true);
    }

    /// <summary>A FHIR instant in UTC, to the millisecond.</summary>
    public static string Instant(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private static IResult Answer(HttpContext http, CachedPage page) =>
        http.Request.Headers.IfNoneMatch.Contains(page.ETag) ? RecordEndpoints.NotModified(http, page.ETag) : FhirEndpoints.Respond(http, page.Utf8Body, page.ETag);

    private static IResult PatientMissing() => FhirEndpoints.Outcome(StatusCodes.Status404NotFound, "not-found", "No such patient.");
}
