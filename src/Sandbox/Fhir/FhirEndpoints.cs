using Aggregator.Sandbox.Authorization;
using Aggregator.Sandbox.Faults;
using Aggregator.Sandbox.FhirData;
using Aggregator.Sandbox.Personas;

namespace Aggregator.Sandbox.Fhir;

/// <summary>
/// The FHIR API of every persona and version: <c>{root}/{persona}/fhir/{r4|dstu2}/...</c>. Everything but
/// <c>/metadata</c> needs an access token issued for that base.
/// </summary>
public static class FhirEndpoints
{
    public static IEndpointRouteBuilder MapFhirEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/{persona}/fhir/{version}").WithTags("FHIR");
        group.MapGet("/metadata", Metadata);
        group.MapGet("/{type}", Search).AddEndpointFilter<FhirFaultFilter>();
        group.MapPost("/{type}/_search", SearchByPost).DisableAntiforgery().AddEndpointFilter<FhirFaultFilter>();
        group.MapGet("/{type}/{id}", Read).AddEndpointFilter<FhirFaultFilter>();
        group.MapGet("/documents/{id}", Document).AddEndpointFilter<FhirFaultFilter>();
        return app;
    }

    /// <summary>
    /// A Binary's content as raw bytes with its media type, where the <c>document-paths</c> fault points attachment urls:
    /// document content some servers keep outside their FHIR resources. Needs a token that may read Binary.
    /// </summary>
    public static async Task<IResult> Document(string persona, string version, string id, HttpContext context,
        PersonaCatalog personas, FhirStore store, CancellationToken cancellationToken)
    {
        var (binary, failure) = await FindReadableAsync(persona, version, "Binary", id, context, personas, store);
        if (binary is null)
        {
            return failure!;
        }

        using var json = System.Text.Json.JsonDocument.Parse(binary.Stored.Json);
        var root = json.RootElement;
        var data = root.TryGetProperty("data", out var r4) ? r4 : root.TryGetProperty("content", out var dstu2) ? dstu2 : default;
        var contentType = root.TryGetProperty("contentType", out var type) ? type.GetString() : null;
        return Results.Bytes(data.ValueKind == System.Text.Json.JsonValueKind.String ? data.GetBytesFromBase64() : [], contentType ?? "application/octet-stream");
    }

    public static FhirResult Metadata(string persona, string version, HttpContext context, PersonaCatalog personas,
        FhirStore store, SandboxUrls urls, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!TryResolve(persona, version, personas, store, out var fhirBase, out var dataset, out var failure))
        {
            return failure;
        }

        var request = context.Request;
        var now = time.GetUtcNow();
        return FhirResult.Json(fhirBase.Version, writer =>
            CapabilityStatements.Write(writer, fhirBase, dataset, fhirBase.Url(request), urls.ServerRoot(request), urls.BrowserRoot(request), now));
    }

    public static Task<FhirResult> Search(string persona, string version, string type, HttpContext context, PersonaCatalog personas,
        FhirStore store, FhirSearch search, CancellationToken cancellationToken)
    {
        var parameters = context.Request.Query
            .SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string>(q.Key, v ?? "")))
            .ToList();
        return SearchWith(persona, version, type, context, personas, store, search, parameters);
    }

    public static async Task<FhirResult> SearchByPost(string persona, string version, string type, HttpContext context,
        PersonaCatalog personas, FhirStore store, FhirSearch search, CancellationToken cancellationToken)
    {
        var parameters = context.Request.Query
            .SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string>(q.Key, v ?? "")))
            .ToList();
        if (context.Request.HasFormContentType)
        {
            var form = await context.Request.ReadFormAsync(cancellationToken);
            parameters.AddRange(form.SelectMany(f => f.Value.Select(v => new KeyValuePair<string, string>(f.Key, v ?? ""))));
        }

        return await SearchWith(persona, version, type, context, personas, store, search, parameters);
    }

    /// <summary>Reads one resource; a patient's token reads its own compartment and shared resources.</summary>
    public static async Task<FhirResult> Read(string persona, string version, string type, string id, HttpContext context,
        PersonaCatalog personas, FhirStore store, CancellationToken cancellationToken)
    {
        var (resource, failure) = await FindReadableAsync(persona, version, type, id, context, personas, store);
        return resource is null ? failure! : FhirResult.Resource(resource.Version, resource.Stored);
    }

    /// <summary>
    /// The resource a read names, when the base serves its type and the caller's token may read it (its own compartment
    /// or a shared resource); else the OperationOutcome to answer instead.
    /// </summary>
    private static async Task<(ReadableResource? Resource, FhirResult? Failure)> FindReadableAsync(string persona, string version, string type, string id,
        HttpContext context, PersonaCatalog personas, FhirStore store)
    {
        if (!TryResolve(persona, version, personas, store, out var fhirBase, out var dataset, out var failure))
        {
            return (null, failure);
        }

        var (grant, unauthorized) = await FhirAuthorization.AuthenticateAsync(context, fhirBase);
        if (grant is null)
        {
            return (null, unauthorized!);
        }

        if (!FhirResourceTypes.ReadableTypes(fhirBase.Version, dataset).Contains(type))
        {
            return (null, FhirResult.Outcome(fhirBase.Version, 404, "not-supported", $"This server does not serve {type}."));
        }

        if (!grant.AccessTo(type).Read)
        {
            return (null, FhirAuthorization.InsufficientScope(fhirBase, context.Request, type, "reads"));
        }

        if (dataset.Find(type, id) is not { } resource)
        {
            return (null, dataset.DeletedAt(type, id) is not null
                ? FhirResult.Outcome(fhirBase.Version, 410, "deleted", $"{type}/{id} has been deleted.")
                : FhirResult.Outcome(fhirBase.Version, 404, "not-found", $"{type}/{id} is not known."));
        }

        return resource.PatientId is null || resource.PatientId == grant.PatientId
            ? (new ReadableResource(fhirBase.Version, resource), null)
            : (null, FhirAuthorization.OtherPatient(fhirBase));
    }

    private sealed record ReadableResource(FhirVersion Version, StoredResource Stored);

    private static async Task<FhirResult> SearchWith(string persona, string version, string type, HttpContext context, PersonaCatalog personas,
        FhirStore store, FhirSearch search, List<KeyValuePair<string, string>> parameters)
    {
        if (!TryResolve(persona, version, personas, store, out var fhirBase, out var dataset, out var failure))
        {
            return failure;
        }

        var (grant, unauthorized) = await FhirAuthorization.AuthenticateAsync(context, fhirBase);
        if (grant is null)
        {
            return unauthorized!;
        }

        if (!FhirResourceTypes.SearchableTypes(fhirBase.Version, dataset).Contains(type))
        {
            return FhirResourceTypes.ReadableTypes(fhirBase.Version, dataset).Contains(type)
                ? FhirResult.Outcome(fhirBase.Version, 400, "not-supported", $"{type} is served by read only; search is not supported.")
                : FhirResult.Outcome(fhirBase.Version, 404, "not-supported", $"This server does not serve {type}.");
        }

        if (!grant.AccessTo(type).Search)
        {
            return FhirAuthorization.InsufficientScope(fhirBase, context.Request, type, "searches");
        }

        return search.Search(fhirBase, dataset, type, context.Request, parameters, grant.PatientId, t => grant.AccessTo(t).Read);
    }

    private static bool TryResolve(string persona, string version, PersonaCatalog personas, FhirStore store,
        out FhirBase fhirBase, out FhirDataset dataset, out FhirResult failure)
    {
        dataset = null!;
        failure = null!;
        if (!personas.TryGetBase(persona, version, out fhirBase))
        {
            failure = FhirResult.Outcome(FhirVersion.R4, 404, "not-found", $"There is no FHIR server at /{persona}/fhir/{version}.");
            return false;
        }

        if (store.Find(fhirBase) is not { } found)
        {
            failure = FhirResult.Outcome(fhirBase.Version, 503, "transient", "The server is still loading its data; try again shortly.");
            failure.Headers["Retry-After"] = "2";
            return false;
        }

        dataset = found;
        return true;
    }
}
