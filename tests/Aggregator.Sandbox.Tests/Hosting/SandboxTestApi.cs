using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Aggregator.Sandbox.Tests.Hosting;

/// <summary>One resource of a fact in <c>GET /_test/overlap</c>.</summary>
public sealed record OverlapResource(string Persona, string FhirVersion, string ResourceType, string ResourceId);

/// <summary>One fact of a generated person and the resources that state it.</summary>
public sealed record OverlapFact(string FactId, string Category, string Kind, string? NearMissOf, List<OverlapResource> Resources);

public sealed record PersonOverlap(string PersonId, List<OverlapFact> Facts);

/// <summary>A fault for <c>POST /_test/faults</c>; kinds: rate-limit, server-error, latency, expire-tokens, revoke-grant, malformed-resource, expire-links.</summary>
public sealed record FaultSpec(string Persona, string Kind)
{
    public string? PatientId { get; init; }

    public int? Count { get; init; }

    public int? RetryAfterSeconds { get; init; }

    public bool? RetryAfterDate { get; init; }

    public int? LatencyMs { get; init; }

    public int? Status { get; init; }

    /// <summary>Narrows a fault that acts per request (latency, rate-limit, server-error, ...) to one FHIR version: R4 or DSTU2.</summary>
    public string? FhirVersion { get; init; }
}

/// <summary>An entry of <c>GET /_test/faults</c>.</summary>
public sealed record ActiveFault(string Id, string Persona, string? PatientId, string Kind, int? Remaining, int RetryAfterSeconds, bool RetryAfterDate,
    int? LatencyMs, int Status, DateTimeOffset CreatedAt, string? FhirVersion);

/// <summary><c>GET /_test/requests</c>: FHIR reads and searches, token endpoint calls, and of those the refresh_token grants.</summary>
public sealed record RequestCounts(string? Persona, string? PatientId, long FhirRequests, long TokenRequests, long RefreshRequests, int FhirRequestsAtOnce);

/// <summary>
/// The sandbox's test API as a test drives it: the overlap ground truth, faults, request counts and data changes.
/// Needs only <see cref="SandboxServer"/>, so other test projects can link it beside that file.
/// </summary>
public static class SandboxTestApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static async Task<List<PersonOverlap>> OverlapAsync(this SandboxServer sandbox, string? personId = null)
    {
        using var client = sandbox.CreateClient();
        var path = personId is null ? "_test/overlap" : $"_test/overlap?personId={Uri.EscapeDataString(personId)}";
        return (await client.GetFromJsonAsync<List<PersonOverlap>>(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken))!;
    }

    /// <summary>Injects a fault and returns its id; fails the test if the sandbox refuses it.</summary>
    public static async Task<string> InjectFaultAsync(this SandboxServer sandbox, FaultSpec fault)
    {
        using var response = await sandbox.PostFaultAsync(fault);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"The fault was refused: {body}");
        return (string)JsonNode.Parse(body)!["id"]!;
    }

    public static async Task<HttpResponseMessage> PostFaultAsync(this SandboxServer sandbox, FaultSpec fault)
    {
        using var client = sandbox.CreateClient();
        return await client.PostAsJsonAsync(new Uri("_test/faults", UriKind.Relative), fault, Json, TestContext.Current.CancellationToken);
    }

    public static async Task<List<ActiveFault>> FaultsAsync(this SandboxServer sandbox)
    {
        using var client = sandbox.CreateClient();
        return (await client.GetFromJsonAsync<List<ActiveFault>>(new Uri("_test/faults", UriKind.Relative), TestContext.Current.CancellationToken))!;
    }

    public static async Task ClearFaultsAsync(this SandboxServer sandbox, string? persona = null, string? patientId = null)
    {
        using var client = sandbox.CreateClient();
        using var response = await client.DeleteAsync(new Uri($"_test/faults{Query(persona, patientId)}", UriKind.Relative), TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <param name="fhirVersion">Narrows <c>FhirRequestsAtOnce</c> to the persona's base of that version.</param>
    public static async Task<RequestCounts> RequestCountsAsync(this SandboxServer sandbox, string? persona = null, string? patientId = null, string? fhirVersion = null)
    {
        using var client = sandbox.CreateClient();
        var query = Query(persona, patientId) + (fhirVersion is null ? "" : (persona is null && patientId is null ? "?" : "&") + "fhirVersion=" + Uri.EscapeDataString(fhirVersion));
        return (await client.GetFromJsonAsync<RequestCounts>(new Uri($"_test/requests{query}", UriKind.Relative), TestContext.Current.CancellationToken))!;
    }

    /// <summary>Clears one fault, by the id its injection answered with.</summary>
    public static async Task ClearFaultAsync(this SandboxServer sandbox, string id)
    {
        using var client = sandbox.CreateClient();
        using var response = await client.DeleteAsync(new Uri($"_test/faults/{Uri.EscapeDataString(id)}", UriKind.Relative), TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
    }

    public static async Task ResetRequestCountsAsync(this SandboxServer sandbox, string? persona = null, string? patientId = null)
    {
        using var client = sandbox.CreateClient();
        using var response = await client.DeleteAsync(new Uri($"_test/requests{Query(persona, patientId)}", UriKind.Relative), TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary><c>POST /_test/{persona}/{version}/Patient/{patientId}/resources</c>: adds a resource to the patient's record.</summary>
    public static async Task<HttpResponseMessage> AddResourceAsync(this SandboxServer sandbox, string persona, string version, string patientId, JsonObject resource)
    {
        using var client = sandbox.CreateClient();
        return await client.PostAsync(new Uri($"_test/{persona}/{version}/Patient/{patientId}/resources", UriKind.Relative), Body(resource), TestContext.Current.CancellationToken);
    }

    /// <summary><c>PUT /_test/{persona}/{version}/{type}/{id}</c>: replaces a resource.</summary>
    public static async Task<HttpResponseMessage> ReplaceResourceAsync(this SandboxServer sandbox, string persona, string version, string type, string id, JsonObject resource)
    {
        using var client = sandbox.CreateClient();
        return await client.PutAsync(new Uri($"_test/{persona}/{version}/{type}/{id}", UriKind.Relative), Body(resource), TestContext.Current.CancellationToken);
    }

    /// <summary><c>DELETE /_test/{persona}/{version}/{type}/{id}</c>: deletes a resource (reads then answer 410).</summary>
    public static async Task<HttpResponseMessage> DeleteResourceAsync(this SandboxServer sandbox, string persona, string version, string type, string id)
    {
        using var client = sandbox.CreateClient();
        return await client.DeleteAsync(new Uri($"_test/{persona}/{version}/{type}/{id}", UriKind.Relative), TestContext.Current.CancellationToken);
    }

    private static StringContent Body(JsonObject resource) => new(resource.ToJsonString(), Encoding.UTF8, "application/fhir+json");

    private static string Query(string? persona, string? patientId)
    {
        var parts = new List<string>();
        if (persona is not null)
        {
            parts.Add($"persona={Uri.EscapeDataString(persona)}");
        }

        if (patientId is not null)
        {
            parts.Add($"patientId={Uri.EscapeDataString(patientId)}");
        }

        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }
}
