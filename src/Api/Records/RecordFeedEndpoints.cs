using System.Text;
using System.Text.Json;
using Aggregator.Api.Auditing;
using Aggregator.Api.Authentication;
using Aggregator.Domain.Fhir;
using Aggregator.Domain.Records;
using Aggregator.Infrastructure.Hosting;
using Aggregator.Infrastructure.Paging;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Records;
using Aggregator.Infrastructure.Tenants;
using Microsoft.EntityFrameworkCore;
using Aggregator.Api.Operations;

namespace Aggregator.Api.Records;

/// <summary>The record read across categories: the timeline, lab trends, the change feed, document content.</summary>
public static class RecordFeedEndpoints
{
    public static IEndpointRouteBuilder MapRecordFeedEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var group = endpoints.MapGroup("/v1/patients/{patientId:guid}")
            .WithTags("Record")
            .RequireAuthorization(AuthenticationSetup.PatientOrTenantPolicy)
            .Audited();
        group.MapGet("/timeline", GetTimeline)
            .WithName("getTimeline")
            .Produces<Schemas.RecordItemPage>()
            .HasConditionalReads()
            .WithSummary("Every dated item of the record, newest first (cursor paging)")
            .WithDescription("`q` keeps the items whose display text or codes (any provider's) contain every word of it.");
        group.MapGet("/labs/trends", GetTrend)
            .WithName("getLabTrend")
            .WithSummary("One lab test across providers as a series in one unit, with reference ranges, ready to plot")
            .WithDescription("`code` is a LOINC code (or system|code). Values are converted to the unit of the most recent result where UCUM allows.");
        group.MapGet("/changes", GetChanges)
            .WithName("listChanges")
            .Produces<Schemas.RecordChangePage>()
            .WithSummary("Merged items changed since a cursor (the change feed)")
            .WithDescription("Without a cursor the feed starts at the beginning. Each change carries the item, or `deleted: true` when a fact left the record. Keep the returned `nextCursor` to ask again later.");
        group.MapGet("/documents/{itemId:guid}/content", GetDocumentContent)
            .WithName("getDocumentContent")
            .ProducesBinaryContent().WithSummary("A document's content, as the provider stored it");
        return endpoints;
    }

    private static async Task<IResult> GetTimeline(
        Guid patientId, HttpContext http, CursorCodec cursors, RecordPageCache cache, CurrentTenant tenant,
        int? limit, string? cursor, string? q, CancellationToken cancellationToken)
    {
        var cacheKey = "timeline" + http.Request.QueryString.Value;
        var generation = cache.Generation; // before the read: a page read while the cache forgets is not kept
        if (PatientAccess.Allows(http.User, patientId) && cache.TryGet(tenant.Required, patientId, cacheKey, out var hit))
        {
            return RecordEndpoints.FromCache(http, hit);
        }

        if (!PatientAccess.Allows(http.User, patientId))
        {
            return ApiProblems.PatientNotFound();
        }

        // As a category's page: one connection, the record's version read with the rows it labels.
        await using var pages = await RecordItemPages.OpenAsync(http.RequestServices.GetRequiredService<RecordReadSlots>(), tenant.Required, cancellationToken);
        var filter = new ItemFilter(patientId) { Words = ItemFilter.WordsOf(q), DatedOnly = true };
        // The first page as the rebuild rendered it with the record's version, when it has: one row.
        var read = RecordEndpoints.IsDefaultFirstPage(http.Request.Query, limit) ? await pages.FirstPageAsync(patientId, Domain.Records.RecordFirstPage.Timeline, cancellationToken) : null;
        read ??= await pages.PageAsync(filter, cursors, RecordListings.Timeline(patientId, q), CursorCodec.ClampLimit(limit), cursor, cancellationToken);
        if (read is null)
        {
            return ApiProblems.PatientNotFound();
        }

        var page = new CachedPage(tenant.Required, read.RecordVersion, read.Utf8Body, RecordEndpoints.ETag(read.RecordVersion, cacheKey));
        cache.Set(patientId, cacheKey, page, generation, fromSecondRead: !RecordEndpoints.IsFirstPage(http.Request.Query));
        return RecordEndpoints.FromCache(http, page);
    }

    private static async Task<Results<Ok<LabTrend>, ProblemHttpResult>> GetTrend(
        Guid patientId, string? code, HttpContext http, AggregatorDbContext db, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(code))
        {
            return TypedResults.Problem(title: "code is required", detail: "Ask for one test, e.g. code=2345-7 (a LOINC code) or code=http://loinc.org|2345-7.",
                statusCode: StatusCodes.Status400BadRequest, type: ProblemTypes.Validation);
        }

        if (await VersionAsync(http, db, patientId, cancellationToken) is null)
        {
            return ApiProblems.PatientNotFound();
        }

        var points = await db.RecordItems.AsNoTracking()
            .Where(i => i.PatientId == patientId && i.Category == RecordCategory.Labs && i.DeletedAt == null && !i.Retracted && i.NormalizedValue != null)
            .Where(i => i.Codes.Contains(code)) // any of the item's codings
            .OrderBy(i => i.EffectiveAt)
            .Select(i => new
            {
                i.Id, i.EffectiveAt, i.DisplayText, i.ValueNumber, i.ValueUnit, i.NormalizedValue, i.NormalizedUnit, i.Interpretation, i.ReferenceRange,
                Providers = i.SourceRows.OrderBy(s => s.Ordinal).Select(s => s.Provider).ToList(),
            })
            .ToListAsync(cancellationToken);
        var unit = points.LastOrDefault()?.ValueUnit;
        var perUnit = unit is null ? (NormalizedValue?)null : UnitNormalizer.Normalize(1, unit, null);
        var series = points.Select(p =>
        {
            var converts = perUnit is { } one && one.Unit == p.NormalizedUnit && one.Value != 0;
            return new TrendPoint(
                p.Id,
                p.EffectiveAt,
                converts ? p.NormalizedValue!.Value / perUnit!.Value.Value : p.ValueNumber,
                converts ? unit : p.ValueUnit,
                p.ReferenceRange is null ? null : JsonSerializer.Deserialize<List<Schemas.ReferenceRange>>(p.ReferenceRange, JsonSerializerOptions.Web),
                p.Interpretation,
                p.Providers.Distinct().ToList());
        }).ToList();
        var display = points.Select(p => p.DisplayText).LastOrDefault(d => d is not null);
        return TypedResults.Ok(new LabTrend(code, display, unit, series));
    }

    private static async Task<IResult> GetChanges(
        Guid patientId, HttpContext http, AggregatorDbContext db, CursorCodec cursors, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        if (await VersionAsync(http, db, patientId, cancellationToken) is null)
        {
            return ApiProblems.PatientNotFound();
        }

        var listing = $"changes:{patientId}";
        var after = string.IsNullOrEmpty(cursor) ? new ChangePosition(0, Guid.Empty) : cursors.Decode<ChangePosition>(listing, cursor);
        var take = CursorCodec.ClampLimit(limit);
        var changes = await db.RecordItems.AsNoTracking()
            .Where(i => i.PatientId == patientId && (i.Version > after.Version || (i.Version == after.Version && i.Id.CompareTo(after.Id) > 0)))
            .OrderBy(i => i.Version).ThenBy(i => i.Id)
            .Take(take)
            .Select(i => new { i.Id, i.Category, i.Version, Deleted = i.DeletedAt != null, i.Compact })
            .ToListAsync(cancellationToken);
        var next = changes.Count > 0 ? new ChangePosition(changes[^1].Version, changes[^1].Id) : after;
        var body = new StringBuilder("{\"changes\":[");
        body.AppendJoin(',', changes.Select(c => c.Deleted
            ? $"{{\"id\":\"{c.Id}\",\"category\":{JsonSerializer.Serialize(c.Category)},\"version\":{c.Version},\"deleted\":true}}"
            : $"{{\"id\":\"{c.Id}\",\"category\":{JsonSerializer.Serialize(c.Category)},\"version\":{c.Version},\"deleted\":false,\"item\":{c.Compact}}}"));
        body.Append("],\"nextCursor\":").Append(JsonSerializer.Serialize(cursors.Encode(listing, next)))
            .Append(",\"hasMore\":").Append(changes.Count == take ? "true" : "false").Append('}');
        return TypedResults.Text(body.ToString(), "application/json", Encoding.UTF8);
    }

    private static async Task<IResult> GetDocumentContent(
        Guid patientId, Guid itemId, HttpContext http, AggregatorDbContext db, CancellationToken cancellationToken)
    {
        if (await VersionAsync(http, db, patientId, cancellationToken) is null)
        {
            return ApiProblems.PatientNotFound();
        }

        var sources = await db.RecordItems.AsNoTracking()
            .Where(i => i.Id == itemId && i.PatientId == patientId && i.Category == RecordCategory.Documents && i.DeletedAt == null)
            .Select(i => i.SourceRows.OrderBy(s => s.Ordinal).Select(s => new { s.ConnectionId, s.ResourceType, s.ResourceId }).ToList())
            .SingleOrDefaultAsync(cancellationToken);
        if (sources is null)
        {
            return DocumentNotFound();
        }

        foreach (var (connectionId, type, id) in sources.Select(s => (s.ConnectionId, s.ResourceType, s.ResourceId)))
        {
            var document = await db.SourceResources.AsNoTracking()
                .Where(r => r.ConnectionId == connectionId && r.ResourceType == type && r.ResourceId == id && r.Resource != null)
                .Select(r => r.Resource!).SingleOrDefaultAsync(cancellationToken);
            if (document is null)
            {
                continue;
            }

            using var json = JsonDocument.Parse(document);
            foreach (var attachment in AttachmentsOf(json.RootElement))
            {
                var contentType = Text(attachment, "contentType");
                if (attachment.TryGetProperty("data", out var data))
                {
                    if (Base64(data) is { } inline)
                    {
                        return DocumentAnswer(http, inline, contentType);
                    }

                    // Unreadable inline data: the attachment's url may still lead to the content.
                }

                if (Text(attachment, "url") is { Length: > 0 } written)
                {
                    var binaryId = ProviderUrls.DocumentId(written);
                    var binary = await db.SourceResources.AsNoTracking()
                        .Where(r => r.ConnectionId == connectionId && r.ResourceType == "Binary" && r.ResourceId == binaryId && r.Resource != null)
                        .Select(r => r.Resource!).SingleOrDefaultAsync(cancellationToken);
                    if (binary is not null)
                    {
                        using var binaryJson = JsonDocument.Parse(binary);
                        var root = binaryJson.RootElement;
                        var bytes = (root.TryGetProperty("data", out var binaryData) ? Base64(binaryData)
                            : root.TryGetProperty("content", out var dstu2Content) ? Base64(dstu2Content) : null) ?? [];
                        return DocumentAnswer(http, bytes, Text(root, "contentType") ?? contentType);
                    }
                }
            }
        }

        return TypedResults.Problem(title: "Content not stored", detail: "The provider gave this document no content we could fetch.", statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound);
    }

    /// <summary>A DocumentReference's attachments, whatever odd shapes the provider gave it (those are skipped).</summary>
    private static IEnumerable<JsonElement> AttachmentsOf(JsonElement document) =>
        document.ValueKind == JsonValueKind.Object && document.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array
            ? content.EnumerateArray()
                .Where(c => c.ValueKind == JsonValueKind.Object && c.TryGetProperty("attachment", out var a) && a.ValueKind == JsonValueKind.Object)
                .Select(c => c.GetProperty("attachment"))
            : [];

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static byte[]? Base64(JsonElement value) =>
        value.ValueKind == JsonValueKind.String && value.TryGetBytesFromBase64(out var bytes) ? bytes : null;

    /// <summary>Media types a browser may show inline: they run nothing.</summary>
    private static readonly HashSet<string> InertTypes = new(StringComparer.OrdinalIgnoreCase) { "application/pdf", "image/png", "image/jpeg", "text/plain" };

    /// <summary>
    /// A provider's document as it came, never sniffed; anything but an inert type (HTML, SVG, XML, …) only as a download,
    /// sandboxed should a browser render it anyway, so that a provider's document never runs in our origin.
    /// </summary>
    private static FileContentHttpResult DocumentAnswer(HttpContext http, byte[] bytes, string? contentType)
    {
        var type = string.IsNullOrWhiteSpace(contentType) ? "application/octet-stream" : contentType;
        http.Response.Headers.XContentTypeOptions = "nosniff";
        if (InertTypes.Contains(type.Split(';')[0].Trim()))
        {
            return TypedResults.Bytes(bytes, type);
        }

        http.Response.Headers.ContentSecurityPolicy = "sandbox";
        return TypedResults.File(bytes, type, fileDownloadName: "document");
    }

    private static async Task<long?> VersionAsync(HttpContext http, AggregatorDbContext db, Guid patientId, CancellationToken cancellationToken) =>
        PatientAccess.Allows(http.User, patientId)
            ? await RecordEndpoints.RecordVersionAsync(db, patientId, cancellationToken)
            : null;

    private static ProblemHttpResult DocumentNotFound() => TypedResults.Problem(
        title: "Document not found", statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound);

    private sealed record ChangePosition(long Version, Guid Id);
}

public sealed record LabTrend(string Code, string? Display, string? Unit, IReadOnlyList<TrendPoint> Points);

public sealed record TrendPoint(Guid ItemId, DateTimeOffset? Effective, decimal? Value, string? Unit, IReadOnlyList<Schemas.ReferenceRange>? ReferenceRange, string? Interpretation, IReadOnlyList<string> Providers);
