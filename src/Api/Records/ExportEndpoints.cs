using System.Text.Json;
using Aggregator.Api.Auditing;
using Aggregator.Api.Authentication;
using Aggregator.Api.Fhir;
using Aggregator.Api.Operations;
using Aggregator.Infrastructure.Connections;
using Aggregator.Infrastructure.Hosting;
using Aggregator.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aggregator.Api.Records;

/// <summary>
/// <c>GET /v1/patients/{id}/export</c>: the patient's whole merged record, as the FHIR view holds it, streamed as a FHIR
/// R4 Bundle (<c>collection</c>) or as NDJSON (one resource per line, grouped by type); with <c>include=sources</c> the
/// providers' resources as they were stored follow, read from the database page by page. Every query reads one
/// snapshot: the export is the record as it was when it began.
/// </summary>
public static class ExportEndpoints
{
    public const string NdjsonMediaType = "application/fhir+ndjson";
    private const int SourcePage = 500;
    private static readonly ReadOnlyMemory<byte> NewLine = new[] { (byte)'\n' };

    public static IEndpointRouteBuilder MapExportEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/v1/patients/{patientId:guid}/export", Export)
            .WithName("exportRecord")
            .WithTags("Record")
            .WithSummary("Export the patient's whole record: a FHIR R4 Bundle, or NDJSON")
            .WithDescription("The merged record as the FHIR view holds it (the Patient, one resource per item, the resources they refer to, and a Provenance per item), as a Bundle of type `collection` (`application/fhir+json`), or with `Accept: application/fhir+ndjson` as one resource per line, grouped by type. `_type` (comma-separated) keeps those types only. `include=sources` adds every provider's resources as they were stored (entries with `fullUrl` `urn:aggregator:connection:{connectionId}/{type}/{id}`; in NDJSON after the merged record, grouped by type). The answer is streamed.")
            .ProducesFhirBundleOrNdjson()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(AuthenticationSetup.PatientOrTenantPolicy)
            .Audited();
        return endpoints;
    }

    private static async Task<IResult> Export(
        Guid patientId, string? _type, string? include, HttpContext http, AggregatorDbContext db, FhirRecordReads reads,
        IOptions<ApiPublicOptions> options, CancellationToken cancellationToken)
    {
        if (!PatientAccess.Allows(http.User, patientId))
        {
            return ApiProblems.PatientNotFound();
        }

        if (include is not (null or "sources"))
        {
            return Invalid("include", "The only value of include is `sources`.");
        }

        HashSet<string>? types = null;
        if (!string.IsNullOrWhiteSpace(_type))
        {
            types = _type.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
            if (types.FirstOrDefault(t => !FhirEndpoints.SearchableTypes.Contains(t)) is { } unknown)
            {
                return Invalid("_type", $"{unknown} is not a type this record holds.");
            }
        }

        // One snapshot for every query of the export, however long it streams: a sync or a rebuild that commits meanwhile
        // is not half in it (items without their Provenance, sources of a record that has moved on). It ends with the request.
        http.Response.RegisterForDisposeAsync(await ReadSnapshot.BeginAsync(db, cancellationToken));
        var version = await RecordEndpoints.RecordVersionAsync(db, patientId, cancellationToken);
        if (version is null)
        {
            return ApiProblems.PatientNotFound();
        }

        var baseUrl = PublicUrls.Base(http, options.Value);
        var ndjson = http.Request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals(NdjsonMediaType, StringComparison.OrdinalIgnoreCase)
            || a.MediaType.Equals("application/ndjson", StringComparison.OrdinalIgnoreCase));
        var sources = include == "sources" ? StoredSourcesAsync(db, patientId, types, cancellationToken) : null;
        return ndjson
            ? TypedResults.Stream(stream => WriteNdjsonAsync(stream, reads, patientId, types, baseUrl, sources, cancellationToken), NdjsonMediaType)
            : TypedResults.Stream(stream => WriteBundleAsync(stream, baseUrl, Merged(reads, patientId, types, baseUrl, cancellationToken), sources, cancellationToken), "application/fhir+json; charset=utf-8");
    }

    /// <summary>The merged record as the FHIR view holds it, row by row from the read model: the Patient, the items, the resources they bring along, the Provenances.</summary>
    private static async IAsyncEnumerable<FhirRow> Merged(
        FhirRecordReads reads, Guid patientId, HashSet<string>? types, string baseUrl, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if ((types is null || types.Contains("Patient")) && await reads.PatientAsync(patientId, cancellationToken) is { } patient)
        {
            yield return patient;
        }

        await foreach (var row in reads.ItemsAsync(patientId, types, baseUrl, cancellationToken))
        {
            yield return row;
        }

        await foreach (var row in reads.SupportingAsync(patientId, types, cancellationToken))
        {
            yield return row;
        }

        if (types is null || types.Contains("Provenance"))
        {
            await foreach (var row in reads.ProvenancesAsync(patientId, null, cancellationToken))
            {
                yield return row;
            }
        }
    }

    private static async Task WriteBundleAsync(
        Stream stream, string baseUrl, IAsyncEnumerable<FhirRow> merged, IAsyncEnumerable<StoredSource>? sources, CancellationToken cancellationToken)
    {
        await using var writer = new Utf8JsonWriter(stream);
        var now = DateTimeOffset.UtcNow;
        FhirRecordReads.WriteBundleStart(writer, "collection", now);
        writer.WriteString("timestamp", FhirRecordReads.Instant(now));
        writer.WriteStartArray("entry");
        await foreach (var resource in merged)
        {
            FhirRecordReads.WriteEntryStart(writer, resource.FullUrl(baseUrl), resource.Json);
            writer.WriteEndObject();
            await FlushIfFullAsync(writer, cancellationToken);
        }

        if (sources is not null)
        {
            await foreach (var source in sources)
            {
                FhirRecordReads.WriteEntryStart(writer, source.FullUrl, source.Json);
                writer.WriteEndObject();
                await FlushIfFullAsync(writer, cancellationToken);
            }
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        await writer.FlushAsync(cancellationToken);
    }

    private static async Task WriteNdjsonAsync(
        Stream stream, FhirRecordReads reads, Guid patientId, HashSet<string>? types, string baseUrl, IAsyncEnumerable<StoredSource>? sources, CancellationToken cancellationToken)
    {
        // Lines are small: they gather in a buffer that goes out as it fills.
        await using var buffered = new BufferedStream(stream, 64 * 1024);
        // Grouped by type; within a type, in the record's order (the patient, the items, then what they bring along).
        foreach (var type in (await reads.TypesAsync(patientId, cancellationToken)).Where(t => types is null || types.Contains(t)))
        {
            await foreach (var resource in Merged(reads, patientId, [type], baseUrl, cancellationToken))
            {
                await WriteLineAsync(buffered, resource.Json, cancellationToken);
            }
        }

        if (sources is not null)
        {
            await foreach (var source in sources)
            {
                await WriteLineAsync(buffered, source.Json, cancellationToken);
            }
        }

        await buffered.FlushAsync(cancellationToken);
    }

    /// <summary>One resource on one line: stored JSON is written compact, so it is written as it is.</summary>
    private static async Task WriteLineAsync(Stream stream, string json, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(json), cancellationToken);
        await stream.WriteAsync(NewLine, cancellationToken);
    }

    private static async Task FlushIfFullAsync(Utf8JsonWriter writer, CancellationToken cancellationToken)
    {
        if (writer.BytesPending > 32 * 1024)
        {
            await writer.FlushAsync(cancellationToken);
        }
    }

    private sealed record StoredSource(string FullUrl, string Json);

    /// <summary>The providers' resources as stored (confirmed connections, not deleted), by type then id, a page at a time.</summary>
    private static async IAsyncEnumerable<StoredSource> StoredSourcesAsync(
        AggregatorDbContext db, Guid patientId, HashSet<string>? types, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var connections = await db.Connections.AsNoTracking().Where(c => c.PatientId == patientId && c.ConfirmedAt != null).Select(c => c.Id).ToListAsync(cancellationToken);
        var stored = db.SourceResources.AsNoTracking().Where(r => connections.Contains(r.ConnectionId) && r.DeletedAt == null && r.Resource != null);
        var present = await stored.Select(r => r.ResourceType).Distinct().ToListAsync(cancellationToken);
        foreach (var type in present.Where(t => types is null || types.Contains(t)).Order(StringComparer.Ordinal))
        {
            // The type's row ids in stored order first (8 bytes each), then the rows a page at a time by primary key
            // alone (the ids are of this snapshot), so that each page reads its own rows only. Paging by "id greater
            // than the last" within the connections' filter let the planner read every remaining row of the type
            // through the connection's index and sort them again for each page: 100 pages of 50 ms each for a patient's
            // 50,000 resources.
            var ids = await stored.Where(r => r.ResourceType == type).OrderBy(r => r.Id).Select(r => r.Id).ToListAsync(cancellationToken);
            foreach (var chunk in ids.Chunk(SourcePage))
            {
                var page = await db.SourceResources.AsNoTracking().Where(r => chunk.Contains(r.Id)).OrderBy(r => r.Id)
                    .Select(r => new { r.ConnectionId, r.ResourceId, r.Resource }).ToListAsync(cancellationToken);
                foreach (var row in page)
                {
                    yield return new StoredSource($"urn:aggregator:connection:{row.ConnectionId}/{type}/{row.ResourceId}", row.Resource!);
                }
            }
        }
    }

    private static ProblemHttpResult Invalid(string parameter, string detail) =>
        TypedResults.Problem(title: $"Invalid {parameter}", detail: detail, statusCode: StatusCodes.Status400BadRequest, type: ProblemTypes.Validation);
}
