using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Aggregator.Api.Auditing;
using Aggregator.Api.Authentication;
using Aggregator.Infrastructure.Hosting;
using Aggregator.Infrastructure.Paging;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Records;
using Aggregator.Infrastructure.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Aggregator.Api.Operations;

namespace Aggregator.Api.Records;

public static class RecordEndpoints
{
    public static IEndpointRouteBuilder MapRecordEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var group = endpoints.MapGroup("/v1/patients/{patientId:guid}")
            .WithTags("Record")
            .RequireAuthorization(AuthenticationSetup.PatientOrTenantPolicy)
            .Audited();
        group.MapGet("/record", GetRecord)
            .WithName("getRecord")
            .Produces<RecordSummary>()
            .HasConditionalReads()
            .WithSummary("The patient's merged record: demographics, categories with counts, sources and their sync state");
        group.MapGet("/record/{category}", GetCategory)
            .WithName("listRecordItems")
            .Produces<Schemas.RecordItemPage>()
            .HasConditionalReads()
            .WithSummary("One category of the merged record, newest first")
            .WithDescription("Filters: `from`, `to` (dates), `code` (a code, or system|code), `status`, `provider` (a connection id), `q` (words in the display text or codes, any provider's), `includeRetracted`. Cursor paging; `ETag`/`If-None-Match` answer 304 while the record is unchanged.");
        group.MapGet("/record/items/{itemId:guid}", GetItem)
            .WithName("getRecordItem")
            .Produces<Schemas.RecordItem>()
            .WithSummary("One merged item with every source that states it")
            .WithDescription("Each source says what that provider stated; `mergedBy` names the rule that joined them. With `include=raw`, each source also carries the provider's resource as stored (`resource`, in R4 form) and, where it had to be converted (DSTU2), the original as received (`original`).");
        return endpoints;
    }

    /// <summary>
    /// The summary, from memory while neither the record nor its sources' state changed (each change is announced to
    /// every replica: the record's version by the rebuild, the sources' state by the database), else from the patient's
    /// row, which the rebuild wrote it to, and the connections.
    /// </summary>
    private static async Task<IResult> GetRecord(
        Guid patientId, HttpContext http, RecordPageCache cache, CurrentTenant tenant, IOptions<JsonOptions> json,
        CancellationToken cancellationToken)
    {
        if (!PatientAccess.Allows(http.User, patientId))
        {
            return ApiProblems.PatientNotFound();
        }

        // Both before the read: a summary read while the cache forgets, or while the sources change, is not kept.
        var generation = cache.Generation;
        var sourcesStamp = cache.SourcesStamp(patientId);
        if (cache.TryGet(tenant.Required, patientId, RecordPageCache.SummaryKey, out var hit))
        {
            return FromCache(http, hit);
        }

        var db = DatabaseOnMiss(http);
        var patient = await db.Patients.AsNoTracking().SingleOrDefaultAsync(p => p.Id == patientId, cancellationToken);
        if (patient is null)
        {
            return ApiProblems.PatientNotFound();
        }

        // Counts and the merged patient as the rebuild wrote them with this version; from the items themselves when the
        // record has not been built in this format yet, or an older build wrote the version.
        List<CategoryCount> categories;
        System.Text.Json.JsonElement? demographics;
        if (StoredRecordSummary.Read(patient.RecordSummary, patient.RecordVersion) is { } stored)
        {
            categories = [.. stored.Categories.Select(c => new CategoryCount(c.Category, c.Count))];
            demographics = stored.Demographics;
        }
        else
        {
            var live = db.RecordItems.AsNoTracking().Where(i => i.PatientId == patientId && i.DeletedAt == null);
            categories = await live.Where(i => !i.Retracted && i.Category != Domain.Records.RecordCategory.Demographics)
                .GroupBy(i => i.Category).OrderBy(g => g.Key).Select(g => new CategoryCount(g.Key, g.Count())).ToListAsync(cancellationToken);
            var compact = await live.Where(i => i.Category == Domain.Records.RecordCategory.Demographics).Select(i => i.Compact).FirstOrDefaultAsync(cancellationToken);
            demographics = compact is null ? null : System.Text.Json.JsonDocument.Parse(compact).RootElement.Clone();
        }
        // An unconfirmed binding is quarantined: it is nobody's source yet; a disconnected one whose records were deleted
        // is nobody's source any more. In the order the patient connected them (ids are time-ordered): the database's own
        // order follows where an update left each row, and a list that reorders itself between reads reads as a change.
        List<RecordSource> sources = await db.Connections.AsNoTracking()
            .Where(c => c.PatientId == patientId && c.ConfirmedAt != null
                && (c.Status != Domain.Connections.ConnectionStatus.Revoked || db.SourceResources.Any(r => r.ConnectionId == c.Id)))
            .Join(db.Providers, c => c.ProviderId, p => p.Id, (c, p) => new RecordSource(c.Id, p.Name, p.FhirVersion == Domain.Providers.FhirVersion.Dstu2 ? "DSTU2" : "R4", c.Status, c.LastSyncAt, c.LastSuccessAt))
            .ToListAsync(cancellationToken);
        sources.Sort((a, b) => a.ConnectionId.CompareTo(b.ConnectionId));
        // The sources' sync state changes without the record (a sync that found nothing new, a connection that needs the
        // patient again): it is part of the answer, so of its ETag.
        var etag = ETag(patient.RecordVersion, "record|" + string.Join(';', sources.Select(s =>
            FormattableString.Invariant($"{s.ConnectionId}:{s.Provider}:{s.FhirVersion}:{s.Status}:{s.LastSyncAt?.UtcTicks}:{s.LastSuccessAt?.UtcTicks}"))));
        var summary = new RecordSummary(patientId, patient.RecordVersion, patient.RecordUpdatedAt, demographics, categories, sources);
        var page = new CachedPage(tenant.Required, patient.RecordVersion, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(summary, json.Value.SerializerOptions), etag);
        cache.Set(patientId, RecordPageCache.SummaryKey, page, generation, sourcesStamp);
        return FromCache(http, page);
    }

    private static async Task<IResult> GetCategory(
        Guid patientId, string category, HttpContext http, CursorCodec cursors, RecordPageCache cache, CurrentTenant tenant,
        int? limit, string? cursor, DateOnly? from, DateOnly? to, string? code, string? status, Guid? provider, string? q, bool? includeRetracted,
        CancellationToken cancellationToken)
    {
        var cacheKey = "category:" + category + http.Request.QueryString.Value;
        if (!PatientAccess.Allows(http.User, patientId))
        {
            return ApiProblems.PatientNotFound();
        }

        if (!Domain.Records.RecordCategory.IsKnown(category))
        {
            return TypedResults.Problem(
                title: "No such category",
                detail: $"'{(category.Length > 40 ? category[..40] : category)}' is not a record category. The record's summary lists the categories with items; the reference lists them all.",
                statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound);
        }

        var generation = cache.Generation; // before the read: a page read while the cache forgets is not kept
        if (cache.TryGet(tenant.Required, patientId, cacheKey, out var hit))
        {
            return FromCache(http, hit);
        }

        // One connection for the read, and in the common case one round trip: the page's rows carry the record's version,
        // so that the version labels (ETag, cache key) exactly what the page holds. A conditional request learns the
        // version first, to answer 304 without reading the page.
        await using var pages = await RecordItemPages.OpenAsync(http.RequestServices.GetRequiredService<RecordReadSlots>(), tenant.Required, cancellationToken);
        var query = http.Request.QueryString.Value + "|" + category;
        if (http.Request.Headers.IfNoneMatch.Count > 0)
        {
            var known = await pages.RecordVersionAsync(patientId, cancellationToken);
            if (known is null)
            {
                return ApiProblems.PatientNotFound();
            }

            if (http.Request.Headers.IfNoneMatch.Contains(ETag(known.Value, query)))
            {
                return NotModified(http, ETag(known.Value, query));
            }
        }

        // The first page as the rebuild rendered it with the record's version, when it has: one row.
        if (IsDefaultFirstPage(http.Request.Query, limit) && await pages.FirstPageAsync(patientId, category, cancellationToken) is { } rendered)
        {
            return Answer(new CachedPage(tenant.Required, rendered.RecordVersion, rendered.Utf8Body, ETag(rendered.RecordVersion, query)));
        }

        var listing = RecordListings.Category(patientId, category, from, to, code, status, provider, q, includeRetracted);
        var filter = new ItemFilter(patientId)
        {
            Category = category,
            IncludeRetracted = includeRetracted == true,
            From = from is { } f ? new DateTimeOffset(f.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null,
            Before = to is { } t ? new DateTimeOffset(t.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null,
            Status = string.IsNullOrWhiteSpace(status) ? null : status,
            Code = string.IsNullOrWhiteSpace(code) ? null : code,
            Words = ItemFilter.WordsOf(q),
            Connection = provider,
            DatedOnly = from is not null || to is not null,
        };
        if (await pages.PageAsync(filter, cursors, listing, CursorCodec.ClampLimit(limit), cursor, cancellationToken) is not { } read)
        {
            return ApiProblems.PatientNotFound();
        }

        return Answer(new CachedPage(tenant.Required, read.RecordVersion, read.Utf8Body, ETag(read.RecordVersion, query)));

        IResult Answer(CachedPage page)
        {
            cache.Set(patientId, cacheKey, page, generation, fromSecondRead: !IsFirstPage(http.Request.Query));
            return FromCache(http, page);
        }
    }

    private static async Task<IResult> GetItem(
        Guid patientId, Guid itemId, string? include, HttpContext http, AggregatorDbContext db, CancellationToken cancellationToken)
    {
        if (include is not (null or "" or "raw"))
        {
            return TypedResults.Problem(title: "Unknown include", detail: "`include` takes `raw` (each source's resource as stored).",
                statusCode: StatusCodes.Status400BadRequest, type: ProblemTypes.Validation);
        }

        var compact = PatientAccess.Allows(http.User, patientId)
            ? await db.RecordItems.AsNoTracking().Where(i => i.Id == itemId && i.PatientId == patientId && i.DeletedAt == null)
                .Select(i => i.Compact).SingleOrDefaultAsync(cancellationToken)
            : null;
        if (compact is null)
        {
            return TypedResults.Problem(title: "Item not found", detail: "No item with this id is in this patient's record.",
                statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound);
        }

        if (include != "raw")
        {
            return TypedResults.Text(compact, "application/json", Encoding.UTF8);
        }

        // Each source with the provider's resource as stored (and the original, where it was converted).
        var item = JsonNode.Parse(compact)!.AsObject();
        var stored = await db.RecordItemSources.AsNoTracking().Where(s => s.ItemId == itemId).OrderBy(s => s.Ordinal)
            .Select(s => db.SourceResources.Where(r => r.ConnectionId == s.ConnectionId && r.ResourceType == s.ResourceType && r.ResourceId == s.ResourceId)
                .Select(r => new { r.Resource, r.Original }).FirstOrDefault())
            .ToListAsync(cancellationToken);
        foreach (var (source, resource) in item["sources"]!.AsArray().OfType<JsonObject>().Zip(stored))
        {
            source["resource"] = resource?.Resource is { } json ? JsonNode.Parse(json) : null;
            source["original"] = resource?.Original is { } original ? JsonNode.Parse(original) : null;
        }

        return TypedResults.Text(item.ToJsonString(), "application/json", Encoding.UTF8);
    }

    /// <summary>
    /// The request's database context, for a summary the cache could not answer: as a handler's parameter it was taken
    /// from the pool and given back on every hit, some 4% of the Api's CPU on a cached page.
    /// </summary>
    internal static AggregatorDbContext DatabaseOnMiss(HttpContext http) => http.RequestServices.GetRequiredService<AggregatorDbContext>();

    /// <summary>
    /// A first page with no filter (the query gives at most its size): what every app asks for first and again, kept in
    /// memory at its first read. Filtered and later pages are kept from their second.
    /// </summary>
    internal static bool IsFirstPage(IQueryCollection query) => query.Keys.All(key => key == "limit");

    /// <summary>A first page at the default size: the one the rebuild renders and keeps (<see cref="RecordItemPages.FirstPageAsync"/>).</summary>
    internal static bool IsDefaultFirstPage(IQueryCollection query, int? limit) => IsFirstPage(query) && CursorCodec.ClampLimit(limit) == CursorCodec.DefaultLimit;

    /// <summary>A page from memory: no database round trip, conditional requests answered as from the database.</summary>
    internal static IResult FromCache(HttpContext http, CachedPage page)
    {
        if (http.Request.Headers.IfNoneMatch.Contains(page.ETag))
        {
            return NotModified(http, page.ETag);
        }

        http.Response.Headers.ETag = page.ETag;
        return new Utf8Body(page.Utf8Body, JsonUtf8);
    }

    /// <summary>304, with the validator the 200 would have carried (RFC 9110, 15.4.5).</summary>
    internal static IResult NotModified(HttpContext http, string etag)
    {
        http.Response.Headers.ETag = etag;
        return TypedResults.StatusCode(StatusCodes.Status304NotModified);
    }

    /// <summary>What the record's JSON answers are sent as.</summary>
    internal const string JsonUtf8 = "application/json; charset=utf-8";

    /// <summary>The patient's record version; none when the patient is not there (for this tenant).</summary>
    internal static Task<long?> RecordVersionAsync(AggregatorDbContext db, Guid patientId, CancellationToken cancellationToken) =>
        db.Patients.AsNoTracking().Where(p => p.Id == patientId).Select(p => (long?)p.RecordVersion).SingleOrDefaultAsync(cancellationToken);

    internal static string ETag(long version, string query) =>
        new EntityTagHeaderValue($"\"{version.ToString(CultureInfo.InvariantCulture)}-{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(query)))[..12]}\"", isWeak: true).ToString();
}

public sealed record CategoryCount(string Category, int Count);

public sealed record RecordSource(Guid ConnectionId, string Provider, string FhirVersion, Domain.Connections.ConnectionStatus Status, DateTimeOffset? LastSyncAt, DateTimeOffset? LastSuccessAt);

public sealed record RecordSummary(
    Guid PatientId,
    long RecordVersion,
    DateTimeOffset? UpdatedAt,
    System.Text.Json.JsonElement? Demographics,
    IReadOnlyList<CategoryCount> Categories,
    IReadOnlyList<RecordSource> Sources);
