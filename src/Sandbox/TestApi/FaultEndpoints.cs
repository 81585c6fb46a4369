using Aggregator.Sandbox.Faults;
using Aggregator.Sandbox.Fhir;
using Aggregator.Sandbox.FhirData;
using Aggregator.Sandbox.Personas;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Aggregator.Sandbox.TestApi;

/// <summary>A fault to inject (<c>POST /_test/faults</c>).</summary>
public sealed record FaultRequest(string? Persona, string? PatientId, string? Kind, int? Count, int? RetryAfterSeconds, bool? RetryAfterDate,
    int? LatencyMs, int? Status, string? FhirVersion = null);

public sealed record FaultCreated(string Id);

/// <summary>An active fault as <c>GET /_test/faults</c> lists it.</summary>
public sealed record FaultView(string Id, string Persona, string? PatientId, string Kind, int? Remaining, int RetryAfterSeconds, bool RetryAfterDate,
    int? LatencyMs, int Status, DateTimeOffset CreatedAt, string? FhirVersion);

public sealed record FaultsCleared(int Cleared);

/// <summary><c>/_test/faults</c>: inject, list and clear faults per persona, optionally narrowed to one patient.</summary>
public static class FaultEndpoints
{
    private const int MaxLatencyMs = 120_000;

    public static RouteGroupBuilder MapFaultEndpoints(this RouteGroupBuilder group)
    {
        group.MapPost("/faults", Inject);
        group.MapGet("/faults", List);
        group.MapDelete("/faults", Clear);
        group.MapDelete("/faults/{id}", Remove);
        return group;
    }

    public static async Task<Results<Created<FaultCreated>, ValidationProblem>> Inject(FaultRequest request, PersonaCatalog personas, FhirStore store,
        FaultInjector faults, GrantFaults grants, PageLinks links, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        Persona? persona = null;
        if (request.Persona is null || !personas.TryGet(request.Persona, out persona))
        {
            errors["persona"] = [$"Name a persona: {string.Join(", ", personas.All.Select(p => p.Name))}."];
        }

        if (!FaultKinds.TryParse(request.Kind, out var kind))
        {
            errors["kind"] = [$"Name a kind: {string.Join(", ", FaultKinds.Names)}."];
        }

        if (persona is not null && request.PatientId is { } patientId
            && !persona.Versions.Any(v => store.Find(new FhirBase(persona, v))?.Find("Patient", patientId) is not null))
        {
            errors["patientId"] = [$"Patient {patientId} is not known at {persona.Name} (patient ids are the persona's own)."];
        }

        if (request.Count is < 1)
        {
            errors["count"] = ["count must be at least 1."];
        }

        if (request.Status is { } status && (kind != FaultKind.ServerError || status is < 500 or > 599))
        {
            errors["status"] = ["status applies to server-error only and must be a 5xx code."];
        }

        if (kind == FaultKind.SlowBody && request.LatencyMs is not (null or (> 0 and <= MaxLatencyMs)))
        {
            errors["latencyMs"] = [$"slow-body takes latencyMs (the pause between chunks) between 1 and {MaxLatencyMs}."];
        }

        if (kind == FaultKind.Latency && request.LatencyMs is not (> 0 and <= MaxLatencyMs))
        {
            errors["latencyMs"] = [$"latency needs latencyMs between 1 and {MaxLatencyMs}."];
        }

        FhirVersion? version = null;
        if (request.FhirVersion is { } named)
        {
            if (!Enum.TryParse<FhirVersion>(named, ignoreCase: true, out var parsed) || persona is null || !persona.Versions.Contains(parsed))
            {
                errors["fhirVersion"] = [$"fhirVersion names one of the persona's FHIR versions: {(persona is null ? "" : string.Join(", ", persona.Versions.Select(VersionName)))}."];
            }
            else if (!FaultInjector.ActsPerRequest(kind))
            {
                errors["fhirVersion"] = ["fhirVersion narrows latency, rate-limit, server-error, endless-body, slow-body and redirect faults only."];
            }
            else
            {
                version = parsed;
            }
        }

        if (request.RetryAfterSeconds is < 0 or > 86_400)
        {
            errors["retryAfterSeconds"] = ["retryAfterSeconds must be between 0 and 86400."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, type: "https://aggregator.example/problems/sandbox-fault-invalid");
        }

        var fault = new Fault(
            Id: "fault-" + Guid.NewGuid().ToString("N")[..16],
            Persona: persona!.Name,
            PatientId: request.PatientId,
            Kind: kind,
            Remaining: kind == FaultKind.Latency ? request.Count : kind is FaultKind.ExpireLinks or FaultKind.RelativeLinks or FaultKind.DocumentPaths ? null : request.Count ?? 1,
            RetryAfterSeconds: request.RetryAfterSeconds ?? (kind == FaultKind.RateLimit ? 1 : 0),
            RetryAfterDate: request.RetryAfterDate ?? false,
            LatencyMs: request.LatencyMs,
            Status: request.Status ?? StatusCodes.Status503ServiceUnavailable,
            CreatedAt: time.GetUtcNow(),
            LinksIssuedUpTo: kind == FaultKind.ExpireLinks ? links.LastSerial : null,
            FhirVersion: version);
        switch (kind)
        {
            case FaultKind.ExpireTokens:
                await grants.ExpireAccessTokensAsync(persona, request.PatientId, cancellationToken);
                break;
            case FaultKind.RevokeGrant:
                await grants.RevokeGrantsAsync(persona, request.PatientId, cancellationToken);
                break;
            default:
                faults.Add(fault);
                break;
        }

        return TypedResults.Created($"/_test/faults/{fault.Id}", new FaultCreated(fault.Id));
    }

    /// <summary>The faults still active (counted ones until used up; expire-tokens and revoke-grant act at once and are not listed).</summary>
    public static Ok<IEnumerable<FaultView>> List(FaultInjector faults) =>
        TypedResults.Ok(faults.Active().Select(f => new FaultView(f.Id, f.Persona, f.PatientId, f.Kind.Name(), f.Remaining, f.RetryAfterSeconds,
            f.RetryAfterDate, f.LatencyMs, f.Status, f.CreatedAt, f.FhirVersion is { } version ? VersionName(version) : null)));

    private static string VersionName(FhirVersion version) => version == FhirVersion.R4 ? "R4" : "DSTU2";

    public static Ok<FaultsCleared> Clear(FaultInjector faults, string? persona, string? patientId) =>
        TypedResults.Ok(new FaultsCleared(faults.Clear(persona?.ToLowerInvariant(), patientId)));

    public static Results<NoContent, NotFound> Remove(FaultInjector faults, string id) =>
        faults.Remove(id) ? TypedResults.NoContent() : TypedResults.NotFound();
}
