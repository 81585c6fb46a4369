using System.Text.Json;
using System.Text.Json.Nodes;
using Aggregator.Sandbox.Fhir;
using Aggregator.Sandbox.FhirData;
using Aggregator.Sandbox.Personas;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Aggregator.Sandbox.TestApi;

/// <summary>
/// <c>/_test/{persona}/{version}/...</c>: add, replace and delete a base's resources as if the provider had changed
/// its records. Answers are FHIR (the resource, or an OperationOutcome) in the version's media type.
/// </summary>
public static class ResourceChangeEndpoints
{
    public static RouteGroupBuilder MapResourceChangeEndpoints(this RouteGroupBuilder group)
    {
        group.MapPost("/{persona}/{version}/Patient/{patientId}/resources", Create).DisableAntiforgery();
        group.MapPut("/{persona}/{version}/{type}/{id}", Replace).DisableAntiforgery();
        group.MapDelete("/{persona}/{version}/{type}/{id}", Delete);
        return group;
    }

    public static async Task<FhirResult> Create(string persona, string version, string patientId, HttpContext context,
        PersonaCatalog personas, FhirStore store, ResourceChanges changes, CancellationToken cancellationToken)
    {
        if (Resolve(persona, version, personas, store) is { } failure)
        {
            return failure;
        }

        _ = personas.TryGetBase(persona, version, out var fhirBase);
        var (body, invalid) = await ReadAsync(context.Request, fhirBase.Version, cancellationToken);
        if (body is null)
        {
            return invalid!;
        }

        var result = changes.Create(fhirBase, patientId, body);
        var answer = Answer(fhirBase, result);
        if (result.Outcome == ChangeOutcome.Created)
        {
            answer.Headers["Location"] = $"{fhirBase.Url(context.Request)}/{result.Resource!.Type}/{result.Resource.Id}";
        }

        return answer;
    }

    public static async Task<FhirResult> Replace(string persona, string version, string type, string id, HttpContext context,
        PersonaCatalog personas, FhirStore store, ResourceChanges changes, CancellationToken cancellationToken)
    {
        if (Resolve(persona, version, personas, store) is { } failure)
        {
            return failure;
        }

        _ = personas.TryGetBase(persona, version, out var fhirBase);
        var (body, invalid) = await ReadAsync(context.Request, fhirBase.Version, cancellationToken);
        return body is null ? invalid! : Answer(fhirBase, changes.Replace(fhirBase, type, id, body));
    }

    public static Results<NoContent, FhirResult> Delete(string persona, string version, string type, string id, PersonaCatalog personas,
        FhirStore store, ResourceChanges changes)
    {
        if (Resolve(persona, version, personas, store) is { } failure)
        {
            return failure;
        }

        _ = personas.TryGetBase(persona, version, out var fhirBase);
        var result = changes.Delete(fhirBase, type, id);
        return result.Outcome == ChangeOutcome.Deleted ? TypedResults.NoContent() : Answer(fhirBase, result);
    }

    private static FhirResult? Resolve(string persona, string version, PersonaCatalog personas, FhirStore store)
    {
        if (!personas.TryGetBase(persona, version, out var fhirBase))
        {
            return FhirResult.Outcome(FhirVersion.R4, StatusCodes.Status404NotFound, "not-found", $"There is no FHIR server for {persona} {version}.");
        }

        return store.Find(fhirBase) is null
            ? FhirResult.Outcome(fhirBase.Version, StatusCodes.Status503ServiceUnavailable, "transient", "The sandbox is still loading its data.")
            : null;
    }

    private static async Task<(JsonObject? Body, FhirResult? Invalid)> ReadAsync(HttpRequest request, FhirVersion version, CancellationToken cancellationToken)
    {
        try
        {
            if (await JsonNode.ParseAsync(request.Body, cancellationToken: cancellationToken) is JsonObject body)
            {
                return (body, null);
            }
        }
        catch (JsonException)
        {
        }

        return (null, FhirResult.Outcome(version, StatusCodes.Status400BadRequest, "structure", "The body must be one FHIR resource as JSON."));
    }

    private static FhirResult Answer(FhirBase fhirBase, ChangeResult result) => result.Outcome switch
    {
        ChangeOutcome.Created => FhirResult.Resource(fhirBase.Version, result.Resource!, StatusCodes.Status201Created),
        ChangeOutcome.Replaced => FhirResult.Resource(fhirBase.Version, result.Resource!),
        ChangeOutcome.NotFound => FhirResult.Outcome(fhirBase.Version, StatusCodes.Status404NotFound, "not-found", result.Problem!),
        ChangeOutcome.Gone => FhirResult.Outcome(fhirBase.Version, StatusCodes.Status410Gone, "deleted", result.Problem!),
        ChangeOutcome.Conflict => FhirResult.Outcome(fhirBase.Version, StatusCodes.Status409Conflict, "duplicate", result.Problem!),
        _ => FhirResult.Outcome(fhirBase.Version, StatusCodes.Status400BadRequest, "invalid", result.Problem ?? "The change is not valid."),
    };
}
