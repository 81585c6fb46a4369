using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Aggregator.Sandbox.Tests.Hosting;
using Hl7.Fhir.Serialization;

namespace Aggregator.Sandbox.Tests.Faults;

/// <summary>
/// Faults injected through the test API, as a client meets them over HTTP. Most are narrowed to one patient, and
/// each test uses its own generated person, so a fault never reaches a request it was not meant for.
/// </summary>
public sealed class FaultInjectionTests(GeneratedSandbox sandbox) : IClassFixture<GeneratedSandbox>
{
    private SandboxServer Server => sandbox.Server;

    [Fact]
    public async Task Rate_limit_answers_429_with_Retry_After_for_the_next_requests_of_that_patient_only()
    {
        var (patient, client) = await SignInAsync("epic", 1);
        var (other, otherClient) = await SignInAsync("epic", 2);
        await Server.InjectFaultAsync(new FaultSpec("epic", "rate-limit") { PatientId = patient.PatientId, Count = 2, RetryAfterSeconds = 3 });

        using var first = await GetAsync(client, "epic", $"Patient/{patient.PatientId}");
        using var unaffected = await GetAsync(otherClient, "epic", $"Patient/{other.PatientId}");
        using var second = await GetAsync(client, "epic", $"Condition?patient={patient.PatientId}");
        using var third = await GetAsync(client, "epic", $"Patient/{patient.PatientId}");

        Assert.Equal(HttpStatusCode.TooManyRequests, first.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(3), first.Headers.RetryAfter?.Delta);
        Assert.Equal("throttled", JsonNode.Parse(await first.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!.AsObject().IssueCode());
        Assert.Equal(HttpStatusCode.OK, unaffected.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
    }

    [Fact]
    public async Task Retry_After_can_be_an_HTTP_date()
    {
        var (patient, client) = await SignInAsync("cerner", 1);
        await Server.InjectFaultAsync(new FaultSpec("cerner", "rate-limit") { PatientId = patient.PatientId, RetryAfterSeconds = 120, RetryAfterDate = true });

        using var throttled = await GetAsync(client, "cerner", $"Patient/{patient.PatientId}");

        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        var retryAt = throttled.Headers.RetryAfter?.Date;
        Assert.NotNull(retryAt);
        Assert.InRange(retryAt.Value, DateTimeOffset.UtcNow.AddSeconds(60), DateTimeOffset.UtcNow.AddSeconds(180));
    }

    [Fact]
    public async Task Server_errors_answer_503_by_default_or_the_status_asked_then_the_server_recovers()
    {
        var (patient, client) = await SignInAsync("nextgen", 1);
        await Server.InjectFaultAsync(new FaultSpec("nextgen", "server-error") { PatientId = patient.PatientId });
        using var unavailable = await GetAsync(client, "nextgen", $"Observation?patient={patient.PatientId}");
        await Server.InjectFaultAsync(new FaultSpec("nextgen", "server-error") { PatientId = patient.PatientId, Status = 500, Count = 1 });
        using var broken = await GetAsync(client, "nextgen", $"Observation?patient={patient.PatientId}");
        using var recovered = await GetAsync(client, "nextgen", $"Observation?patient={patient.PatientId}");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, unavailable.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, broken.StatusCode);
        Assert.Equal("OperationOutcome", (string?)JsonNode.Parse(await broken.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!["resourceType"]);
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
    }

    [Fact]
    public async Task Latency_slows_requests_while_the_fault_is_active()
    {
        var (patient, client) = await SignInAsync("nextgen", 2);
        await Server.InjectFaultAsync(new FaultSpec("nextgen", "latency") { PatientId = patient.PatientId, LatencyMs = 300 });

        var slow = await TimedGetAsync(client, "nextgen", $"Patient/{patient.PatientId}");
        var stillSlow = await TimedGetAsync(client, "nextgen", $"Patient/{patient.PatientId}");
        var listed = await Server.FaultsAsync();
        await Server.ClearFaultsAsync("nextgen", patient.PatientId);
        var afterClear = await Server.FaultsAsync();

        Assert.True(slow >= TimeSpan.FromMilliseconds(290), $"The first request took {slow.TotalMilliseconds} ms.");
        Assert.True(stillSlow >= TimeSpan.FromMilliseconds(290), $"The second request took {stillSlow.TotalMilliseconds} ms.");
        var fault = Assert.Single(listed, f => f.PatientId == patient.PatientId);
        Assert.Equal(("latency", 300, (int?)null), (fault.Kind, fault.LatencyMs ?? 0, fault.Remaining));
        Assert.DoesNotContain(afterClear, f => f.PatientId == patient.PatientId);
    }

    [Fact]
    public async Task A_latency_with_a_count_is_used_up()
    {
        var (patient, client) = await SignInAsync("cerner", 2);
        var id = await Server.InjectFaultAsync(new FaultSpec("cerner", "latency") { PatientId = patient.PatientId, LatencyMs = 250, Count = 1 });

        var slow = await TimedGetAsync(client, "cerner", $"Patient/{patient.PatientId}");
        var faults = await Server.FaultsAsync();

        Assert.True(slow >= TimeSpan.FromMilliseconds(240), $"The request took {slow.TotalMilliseconds} ms.");
        Assert.DoesNotContain(faults, f => f.Id == id);
    }

    [Fact]
    public async Task Expired_tokens_get_401_and_exactly_one_refresh_brings_access_back()
    {
        var patient = await sandbox.PatientAsync("epic", 3);
        var app = new SmartApp(Server, SandboxClient.Confidential("epic"));
        var tokens = await app.SignInAsync(Server.FhirBase("epic", "r4"), patient, "launch/patient offline_access patient/*.read");
        await Server.ResetRequestCountsAsync("epic", patient.PatientId);
        await Server.InjectFaultAsync(new FaultSpec("epic", "expire-tokens") { PatientId = patient.PatientId });

        using var refused = await GetAsync(Bearer(tokens.AccessToken!), "epic", $"Patient/{patient.PatientId}");
        var refreshed = await app.RefreshAsync(tokens.RefreshToken!);
        using var again = await GetAsync(Bearer(refreshed.AccessToken!), "epic", $"Patient/{patient.PatientId}");
        var counts = await Server.RequestCountsAsync("epic", patient.PatientId);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("invalid_token", refused.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(new RequestCounts("epic", patient.PatientId, FhirRequests: 2, TokenRequests: 1, RefreshRequests: 1, FhirRequestsAtOnce: 1), counts);
    }

    [Fact]
    public async Task Expiring_one_patients_tokens_leaves_other_patients_signed_in()
    {
        var (patient, client) = await SignInAsync("nextgen", 3);
        var (other, otherClient) = await SignInAsync("nextgen", 4);

        await Server.InjectFaultAsync(new FaultSpec("nextgen", "expire-tokens") { PatientId = patient.PatientId });
        using var refused = await GetAsync(client, "nextgen", $"Patient/{patient.PatientId}");
        using var fine = await GetAsync(otherClient, "nextgen", $"Patient/{other.PatientId}");

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, fine.StatusCode);
    }

    [Fact]
    public async Task A_revoked_grant_ends_access_and_the_refresh_answers_invalid_grant()
    {
        var patient = await sandbox.PatientAsync("cerner", 3);
        var app = new SmartApp(Server, SandboxClient.Confidential("cerner"));
        var tokens = await app.SignInAsync(Server.FhirBase("cerner", "r4"), patient, "launch/patient offline_access patient/*.read");

        await Server.InjectFaultAsync(new FaultSpec("cerner", "revoke-grant") { PatientId = patient.PatientId });
        using var refused = await GetAsync(Bearer(tokens.AccessToken!), "cerner", $"Patient/{patient.PatientId}");
        var refresh = await app.RefreshAsync(tokens.RefreshToken!);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, refresh.Status);
        Assert.Equal("invalid_grant", refresh.Error);
    }

    [Fact]
    public async Task A_malformed_resource_spoils_one_entry_of_the_next_page_and_nothing_else()
    {
        var (patient, client) = await SignInAsync("nextgen", 4);
        await Server.InjectFaultAsync(new FaultSpec("nextgen", "malformed-resource") { PatientId = patient.PatientId });
        var url = new Uri(Server.FhirBase("nextgen", "r4"), $"Observation?patient={patient.PatientId}&_count=10");

        var spoiled = await client.GetJsonAsync(url);
        var clean = await client.GetJsonAsync(url);

        var deserializer = new FhirJsonDeserializer(new DeserializerSettings());
        bool Parses(JsonObject resource) => deserializer.TryDeserializeResource(resource.ToJsonString(), out _, out var issues) && !issues.Any();
        var verdicts = spoiled.Matches().Select(Parses).ToList();
        Assert.Equal(10, verdicts.Count);
        Assert.Equal(1, verdicts.Count(ok => !ok));
        Assert.All(clean.Matches(), r => Assert.True(Parses(r)));
        Assert.Equal(spoiled.Matches().Select(r => (string?)r["id"]), clean.Matches().Select(r => (string?)r["id"]));
    }

    [Fact]
    public async Task Expire_links_makes_every_next_link_issued_so_far_answer_410()
    {
        var (patient, client) = await SignInAsync("epic", 4);
        var url = new Uri(Server.FhirBase("epic", "r4"), $"Encounter?patient={patient.PatientId}&_count=2");
        var before = FhirHttp.NextLink(await client.GetJsonAsync(url))!;

        await Server.InjectFaultAsync(new FaultSpec("epic", "expire-links") { PatientId = patient.PatientId });
        var expired = await client.GetJsonAsync(before, HttpStatusCode.Gone);
        var after = FhirHttp.NextLink(await client.GetJsonAsync(url))!;
        var works = await client.GetJsonAsync(after);
        await Server.ClearFaultsAsync("epic", patient.PatientId);

        Assert.Equal("not-found", expired.IssueCode());
        Assert.Equal(2, works.Matches().Count());
    }

    [Fact]
    public async Task A_fault_without_a_patient_reaches_every_patient_of_that_persona_and_no_other_persona()
    {
        var (first, firstClient) = await SignInAsync("cerner", 4);
        var (second, secondClient) = await SignInAsync("cerner", 1);
        var (epic, epicClient) = await SignInAsync("epic", 2);

        await Server.InjectFaultAsync(new FaultSpec("cerner", "server-error") { Count = 2, Status = 502 });
        using var one = await GetAsync(firstClient, "cerner", $"Patient/{first.PatientId}");
        using var elsewhere = await GetAsync(epicClient, "epic", $"Patient/{epic.PatientId}");
        using var two = await GetAsync(secondClient, "cerner", $"Patient/{second.PatientId}");
        using var over = await GetAsync(secondClient, "cerner", $"Patient/{second.PatientId}");

        Assert.Equal((HttpStatusCode.BadGateway, HttpStatusCode.BadGateway), (one.StatusCode, two.StatusCode));
        Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode);
        Assert.Equal(HttpStatusCode.OK, over.StatusCode);
    }

    [Fact]
    public async Task Faults_are_listed_until_used_up_and_cleared_by_persona_and_patient()
    {
        var patient = await sandbox.PatientAsync("nextgen", 1);
        var kept = await Server.InjectFaultAsync(new FaultSpec("epic", "rate-limit") { Count = 5 });
        var cleared = await Server.InjectFaultAsync(new FaultSpec("nextgen", "malformed-resource") { PatientId = patient.PatientId, Count = 3 });

        var listed = await Server.FaultsAsync();
        await Server.ClearFaultsAsync("nextgen", patient.PatientId);
        var afterPatient = await Server.FaultsAsync();
        await Server.ClearFaultsAsync("epic");
        var afterPersona = await Server.FaultsAsync();

        Assert.Equal(3, listed.Single(f => f.Id == cleared).Remaining);
        Assert.Equal(("epic", "rate-limit", (string?)null), listed.Single(f => f.Id == kept) is var k ? (k.Persona, k.Kind, k.PatientId) : default);
        Assert.DoesNotContain(afterPatient, f => f.Id == cleared);
        Assert.Contains(afterPatient, f => f.Id == kept);
        Assert.DoesNotContain(afterPersona, f => f.Id == kept);
    }

    [Fact]
    public async Task A_fault_narrowed_to_one_FHIR_version_leaves_the_personas_other_version_alone()
    {
        var patient = await sandbox.PatientAsync("nextgen", 3);
        using var r4 = await Server.PatientClientAsync("nextgen", "r4", patient.PatientId);
        using var dstu2 = await Server.PatientClientAsync("nextgen", "dstu2", patient.PatientId);
        var id = await Server.InjectFaultAsync(new FaultSpec("nextgen", "server-error") { PatientId = patient.PatientId, Count = 5, FhirVersion = "DSTU2" });

        using var atR4 = await r4.GetAsync(new Uri(Server.FhirBase("nextgen", "r4"), $"Patient/{patient.PatientId}"), TestContext.Current.CancellationToken);
        using var atDstu2 = await dstu2.GetAsync(new Uri(Server.FhirBase("nextgen", "dstu2"), $"Patient/{patient.PatientId}"), TestContext.Current.CancellationToken);
        var listed = Assert.Single(await Server.FaultsAsync(), f => f.Id == id);
        await Server.ClearFaultAsync(id);
        using var unknownVersion = await Server.PostFaultAsync(new FaultSpec("nextgen", "latency") { PatientId = patient.PatientId, LatencyMs = 10, FhirVersion = "STU3" });
        using var notPerRequest = await Server.PostFaultAsync(new FaultSpec("nextgen", "expire-links") { PatientId = patient.PatientId, FhirVersion = "R4" });

        Assert.Equal(HttpStatusCode.OK, atR4.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, atDstu2.StatusCode);
        Assert.Equal("DSTU2", listed.FhirVersion);
        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (unknownVersion.StatusCode, notPerRequest.StatusCode));
        Assert.DoesNotContain(await Server.FaultsAsync(), f => f.PatientId == patient.PatientId);
    }

    [Fact]
    public async Task A_fault_the_sandbox_cannot_apply_is_refused_with_a_problem()
    {
        var before = (await Server.FaultsAsync()).Count;
        using var unknownKind = await Server.PostFaultAsync(new FaultSpec("epic", "gremlins"));
        using var unknownPersona = await Server.PostFaultAsync(new FaultSpec("allscripts", "rate-limit"));
        using var otherPersonasPatient = await Server.PostFaultAsync(new FaultSpec("epic", "rate-limit") { PatientId = (await sandbox.PatientAsync("cerner", 1)).PatientId });
        using var latencyWithoutValue = await Server.PostFaultAsync(new FaultSpec("epic", "latency"));

        foreach (var response in new[] { unknownKind, unknownPersona, otherPersonasPatient, latencyWithoutValue })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        Assert.Equal(before, (await Server.FaultsAsync()).Count);
    }

    private async Task<(TestPatient Patient, HttpClient Client)> SignInAsync(string persona, int person)
    {
        var patient = await sandbox.PatientAsync(persona, person);
        return (patient, await Server.PatientClientAsync(persona, "r4", patient.PatientId));
    }

    private HttpClient Bearer(string accessToken)
    {
        var client = Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return client;
    }

    private Task<HttpResponseMessage> GetAsync(HttpClient client, string persona, string path) =>
        client.GetAsync(new Uri(Server.FhirBase(persona, "r4"), path), TestContext.Current.CancellationToken);

    private async Task<TimeSpan> TimedGetAsync(HttpClient client, string persona, string path)
    {
        var stopwatch = Stopwatch.StartNew();
        using var response = await GetAsync(client, persona, path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return stopwatch.Elapsed;
    }
}
