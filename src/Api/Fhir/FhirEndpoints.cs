using System.Text;
using System.Text.Json.Nodes;
using Aggregator.Api.Auditing;
using Aggregator.Api.Authentication;
using Aggregator.Domain.Sync;
using Aggregator.Infrastructure.Connections;
using Aggregator.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Aggregator.Api.Operations;

namespace Aggregator.Api.Fhir;

/// <summary>
/// The merged record as a read-only FHIR R4 server: <c>Patient/{id}/$everything</c>, searches by
/// patient, reads. One resource per merged item under the item's id, each with a Provenance of the
/// same id naming its sources. Same credentials as the REST API. Errors are OperationOutcomes.
/// </summary>
public static class FhirEndpoints
{
    public const string Base = "/fhir/r4";

    public static IEndpointRouteBuilder MapFhirEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var group = endpoints.MapGroup(Base).WithTags("FHIR R4 view");
        group.MapGet("/metadata", Metadata)
            .WithName("fhirCapabilities")
            .ProducesFhir<FhirCapabilityStatement>().AllowAnonymous()
            .WithSummary("CapabilityStatement of the FHIR view");
        var secured = group.MapGroup("").RequireAuthorization(AuthenticationSetup.PatientOrTenantPolicy).Audited();
        secured.MapGet("/Patient/{patientId:guid}/$everything", Everything)
            .WithName("fhirPatientEverything")
            .ProducesFhir<FhirBundle>()
            .HasConditionalReads()
            .WithSummary("The patient's merged record as one FHIR R4 Bundle, a Provenance per item")
            .WithDescription("`_type` limits the resource types (comma-separated). Answers `application/fhir+json`, or `application/json` when the client asks for it (`Accept` or `_format`).");
        secured.MapGet("/Patient/{patientId:guid}", ReadPatient)
            .WithName("fhirReadPatient")
            .ProducesFhir<FhirResource>()
            .HasConditionalReads().WithSummary("The merged Patient");
        secured.MapGet("/{type}", Search)
            .WithName("fhirSearch")
            .ProducesFhir<FhirBundle>()
            .HasConditionalReads()
            .WithSummary("The merged record's resources of one type, for one patient")
            .WithDescription("`patient` (an id, or `Patient/{id}`) is required. `_revinclude=Provenance:target` adds each resource's Provenance. Resources the matches refer to (Practitioner, Organization, ...) come along as `include` entries.");
        secured.MapGet("/{type}/{id}", Read)
            .WithName("fhirRead")
            .ProducesFhir<FhirResource>()
            .HasConditionalReads().WithSummary("One resource of a merged record");
        return endpoints;
    }

    private static IResult Metadata(HttpContext http, IOptions<ApiPublicOptions> options)
    {
        var types = new JsonArray();
        types.Add(new JsonObject
        {
            ["type"] = "Patient",
            ["interaction"] = new JsonArray { new JsonObject { ["code"] = "read" } },
            ["operation"] = new JsonArray { new JsonObject { ["name"] = "everything", ["definition"] = "http://hl7.org/fhir/OperationDefinition/Patient-everything" } },
        });
        foreach (var type in SearchableTypes.Where(t => t != "Patient" && !SupportingTypes.Contains(t)).Order(StringComparer.Ordinal))
        {
            types.Add(new JsonObject
            {
                ["type"] = type,
                ["interaction"] = new JsonArray { new JsonObject { ["code"] = "read" }, new JsonObject { ["code"] = "search-type" } },
                ["searchParam"] = new JsonArray { new JsonObject { ["name"] = "patient", ["type"] = "reference" } },
            });
        }

        var statement = new JsonObject
        {
            ["resourceType"] = "CapabilityStatement",
            ["status"] = "active",
            ["date"] = "2026-11-28",
            ["kind"] = "instance",
            ["software"] = new JsonObject { ["name"] = "Aggregator" },
            ["implementation"] = new JsonObject { ["description"] = "The merged patient record, read-only", ["url"] = PublicUrls.Base(http, options.Value) + Base },
            ["fhirVersion"] = "4.0.1",
            ["format"] = new JsonArray { "application/fhir+json", "application/json" },
            ["rest"] = new JsonArray
            {
                new JsonObject
                {
                    ["mode"] = "server",
                    ["security"] = new JsonObject { ["description"] = "Bearer: a tenant API key, or a patient's session token." },
                    ["resource"] = types,
                },
            },
        };
        return Respond(http, statement.ToJsonString());
    }

    private static async Task<IResult> Everything(
        Guid patientId, HttpContext http, FhirRecordReads reads, string? _type, CancellationToken cancellationToken)
    {
        if (Unsupported(http, "_type") is { } refused)
        {
            return refused;
        }

        var types = string.IsNullOrWhiteSpace(_type) ? null : _type.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        var key = "everything:" + (types is null ? "*" : string.Join(',', types.Order(StringComparer.Ordinal)));
        return await reads.RespondAsync(http, patientId, key, async baseUrl =>
        {
            var entries = new List<(FhirRow Row, string Mode)>();
            if (Wanted("Patient") && await reads.PatientAsync(patientId, cancellationToken) is { } patient)
            {
                entries.Add((patient, "match"));
            }

            await foreach (var row in reads.ItemsAsync(patientId, types, baseUrl, cancellationToken))
            {
                entries.Add((row, "match"));
            }

            await foreach (var row in reads.SupportingAsync(patientId, types, cancellationToken))
            {
                entries.Add((row, "match"));
            }

            if (Wanted("Provenance"))
            {
                await foreach (var row in reads.ProvenancesAsync(patientId, null, cancellationToken))
                {
                    entries.Add((row, "match"));
                }
            }

            return FhirRecordReads.Bundle(baseUrl, $"{Base}/Patient/{patientId}/$everything" + (types is null ? "" : "?_type=" + string.Join(',', types.Order(StringComparer.Ordinal))), entries);
        }, cancellationToken);

        bool Wanted(string type) => types is null || types.Contains(type);
    }

    private static async Task<IResult> ReadPatient(Guid patientId, HttpContext http, FhirRecordReads reads, CancellationToken cancellationToken) =>
        Unsupported(http) ?? await reads.RespondAsync(http, patientId, "patient", async _ => (await reads.PatientAsync(patientId, cancellationToken))?.Json, cancellationToken);

    private static async Task<IResult> Search(
        string type, HttpContext http, FhirRecordReads reads, string? patient, string? _revinclude, CancellationToken cancellationToken)
    {
        if (!SearchableTypes.Contains(type))
        {
            return Outcome(StatusCodes.Status404NotFound, "not-supported", $"This server does not serve {type} resources.");
        }

        if (Unsupported(http, "patient", "_revinclude") is { } refused)
        {
            return refused;
        }

        if (_revinclude is not null && _revinclude != "Provenance:target")
        {
            return Outcome(StatusCodes.Status400BadRequest, "not-supported", "Only _revinclude=Provenance:target is supported.");
        }

        var id = patient?.StartsWith("Patient/", StringComparison.Ordinal) == true ? patient["Patient/".Length..] : patient;
        if (!Guid.TryParse(id, out var patientId))
        {
            return Outcome(StatusCodes.Status400BadRequest, "required", "Searches need the `patient` parameter: a patient id of this server (or Patient/{id}).");
        }

        var withProvenance = _revinclude is not null;
        return await reads.RespondAsync(http, patientId, $"search:{type}:{withProvenance}", async baseUrl =>
        {
            var matches = new List<FhirRow>();
            if (type == "Patient")
            {
                if (await reads.PatientAsync(patientId, cancellationToken) is { } merged)
                {
                    matches.Add(merged);
                }
            }
            else if (type == "Provenance")
            {
                await foreach (var row in reads.ProvenancesAsync(patientId, null, cancellationToken))
                {
                    matches.Add(row);
                }
            }
            else
            {
                await foreach (var row in reads.ItemsAsync(patientId, [type], baseUrl, cancellationToken))
                {
                    matches.Add(row);
                }

                await foreach (var row in reads.SupportingAsync(patientId, [type], cancellationToken))
                {
                    matches.Add(row);
                }
            }

            var entries = matches.Select(r => (r, "match")).ToList();
            var referenced = matches.SelectMany(m => m.Refs).ToHashSet(StringComparer.Ordinal);
            if (referenced.Count > 0)
            {
                await foreach (var row in reads.SupportingAsync(patientId, null, cancellationToken))
                {
                    if (row.ResourceType != type && referenced.Contains(row.Id))
                    {
                        entries.Add((row, "include"));
                    }
                }
            }

            if (withProvenance && type != "Provenance")
            {
                var targets = matches.Select(m => m.ItemId).OfType<Guid>().ToList();
                if (targets.Count > 0)
                {
                    await foreach (var row in reads.ProvenancesAsync(patientId, targets, cancellationToken))
                    {
                        entries.Add((row, "include"));
                    }
                }
            }

            return FhirRecordReads.Bundle(baseUrl, $"{Base}/{type}?patient={patientId}" + (withProvenance ? "&_revinclude=Provenance:target" : ""), entries);
        }, cancellationToken);
    }

    private static async Task<IResult> Read(
        string type, string id, HttpContext http, FhirRecordReads reads, AggregatorDbContext db, CancellationToken cancellationToken)
    {
        if (!SearchableTypes.Contains(type))
        {
            return Outcome(StatusCodes.Status404NotFound, "not-supported", $"This server does not serve {type} resources.");
        }

        if (Unsupported(http) is { } refused)
        {
            return refused;
        }

        // Items (and their Provenances) are found by id; supporting resources only through the record that holds them.
        var patientId = Guid.TryParse(id, out var itemId)
            ? await db.RecordItems.AsNoTracking().Where(i => i.Id == itemId && i.DeletedAt == null).Select(i => (Guid?)i.PatientId).SingleOrDefaultAsync(cancellationToken)
            : null;
        if (patientId is null)
        {
            return Outcome(StatusCodes.Status404NotFound, "not-found", $"{type}/{id} is not known here. Supporting resources are served within $everything and searches.");
        }

        return await reads.RespondAsync(http, patientId.Value, $"read:{type}/{id}", async baseUrl =>
            (type == "Provenance" ? await reads.ProvenanceAsync(patientId.Value, itemId, cancellationToken) : await reads.ItemAsync(patientId.Value, type, itemId, baseUrl, cancellationToken))?.Json,
            cancellationToken);
    }

    /// <summary>Types brought along into Bundles (urn:uuid fullUrls), found by searching a patient's record, not read on their own.</summary>
    private static readonly string[] SupportingTypes = ["Practitioner", "PractitionerRole", "Organization", "Location", "Medication"];

    /// <summary>Every type the view may hold: the R4 patient compartment, the patient, and supporting types.</summary>
    internal static readonly HashSet<string> SearchableTypes = new(
        PatientCompartment.R4Types.Concat(["Patient", "Provenance"]).Concat(SupportingTypes), StringComparer.Ordinal);

    /// <summary>
    /// A search parameter we do not apply is refused (400), so that no client takes unfiltered results for filtered ones;
    /// with <c>Prefer: handling=lenient</c> it is ignored instead, and the Bundle's self link shows what was applied.
    /// </summary>
    private static IResult? Unsupported(HttpContext http, params string[] supported)
    {
        var unknown = http.Request.Query.Keys.Where(k => k != "_format" && !supported.Contains(k, StringComparer.Ordinal)).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count == 0 || http.Request.Headers["Prefer"].Any(p => p?.Contains("handling=lenient", StringComparison.OrdinalIgnoreCase) == true))
        {
            return null;
        }

        return Outcome(StatusCodes.Status400BadRequest, "not-supported",
            $"Not supported here: {string.Join(", ", unknown)}. Supported: {(supported.Length == 0 ? "none" : string.Join(", ", supported))} (and _format). Send Prefer: handling=lenient to have unknown parameters ignored.");
    }

    /// <summary>Writes FHIR JSON as <c>application/fhir+json</c>, or <c>application/json</c> when that is what the client asked for.</summary>
    internal static IResult Respond(HttpContext http, string body, int status = StatusCodes.Status200OK, string? etag = null)
    {
        var mediaType = MediaType(http.Request);
        if (mediaType is null)
        {
            return Outcome(StatusCodes.Status406NotAcceptable, "not-supported", "This server speaks FHIR JSON only: application/fhir+json or application/json.", "application/fhir+json");
        }

        if (etag is not null)
        {
            http.Response.Headers.ETag = etag;
        }

        return Results.Text(body, mediaType + "; charset=utf-8", Encoding.UTF8, status);
    }

    /// <summary>A 200 answer whose body is UTF-8 already (a cached page), in the media type the client asked for.</summary>
    internal static IResult Respond(HttpContext http, byte[] utf8Body, string etag)
    {
        if (MediaType(http.Request) is not { } mediaType)
        {
            return Outcome(StatusCodes.Status406NotAcceptable, "not-supported", "This server speaks FHIR JSON only: application/fhir+json or application/json.", "application/fhir+json");
        }

        http.Response.Headers.ETag = etag;
        return new Utf8Body(utf8Body, mediaType + "; charset=utf-8");
    }

    internal static IResult Outcome(int status, string code, string diagnostics, string mediaType = "application/fhir+json")
    {
        var outcome = new JsonObject
        {
            ["resourceType"] = "OperationOutcome",
            ["issue"] = new JsonArray { new JsonObject { ["severity"] = "error", ["code"] = code, ["diagnostics"] = diagnostics } },
        };
        return Results.Text(outcome.ToJsonString(), mediaType + "; charset=utf-8", Encoding.UTF8, status);
    }

    private static string? MediaType(HttpRequest request)
    {
        var format = request.Query["_format"].ToString();
        if (format.Length > 0)
        {
            return format switch
            {
                "json" or "application/fhir+json" => "application/fhir+json",
                "application/json" => "application/json",
                _ => null,
            };
        }

        var accept = request.GetTypedHeaders().Accept;
        if (accept.Count == 0)
        {
            return "application/fhir+json";
        }

        foreach (var type in accept.OrderByDescending(a => a.Quality ?? 1))
        {
            switch (type.MediaType.Value?.ToLowerInvariant())
            {
                case "application/fhir+json" or "application/json+fhir" or "*/*" or "application/*":
                    return "application/fhir+json";
                case "application/json":
                    return "application/json";
            }
        }

        return null;
    }
}
