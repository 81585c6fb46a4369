using Aggregator.Sandbox.Tests.Hosting;

namespace Aggregator.Sandbox.Tests.TestApi;

/// <summary><c>/_test/requests</c> counts what clients did, per persona and patient, so tests can assert it.</summary>
public sealed class RequestCountTests(GeneratedSandbox sandbox) : IClassFixture<GeneratedSandbox>
{
    private SandboxServer Server => sandbox.Server;

    [Fact]
    public async Task Counts_FHIR_requests_and_token_calls_per_patient_with_refreshes_apart()
    {
        var patient = await sandbox.PatientAsync("cerner", 1);
        var other = await sandbox.PatientAsync("cerner", 2);
        await Server.ResetRequestCountsAsync();
        var app = new SmartApp(Server, SandboxClient.Public("cerner"));
        var fhirBase = Server.FhirBase("cerner", "r4");

        var tokens = await app.SignInAsync(fhirBase, patient, "launch/patient offline_access patient/*.read");
        using (var client = Server.CreateClient())
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", tokens.AccessToken);
            await client.GetJsonAsync(new Uri(fhirBase, $"Patient/{patient.PatientId}"));
            await client.GetJsonAsync(new Uri(fhirBase, $"Encounter?patient={patient.PatientId}"));
            await client.GetJsonAsync(new Uri(fhirBase, "metadata"));
        }

        var refreshed = await app.RefreshAsync(tokens.RefreshToken!);
        await app.RefreshAsync(refreshed.RefreshToken!);
        using (var otherClient = await Server.PatientClientAsync("cerner", "r4", other.PatientId))
        {
            await otherClient.GetJsonAsync(new Uri(fhirBase, $"Patient/{other.PatientId}"));
        }

        var mine = await Server.RequestCountsAsync("cerner", patient.PatientId);
        var persona = await Server.RequestCountsAsync("cerner");
        var epic = await Server.RequestCountsAsync("epic");
        await Server.ResetRequestCountsAsync("cerner", patient.PatientId);
        var reset = await Server.RequestCountsAsync("cerner", patient.PatientId);

        Assert.Equal(new RequestCounts("cerner", patient.PatientId, FhirRequests: 2, TokenRequests: 3, RefreshRequests: 2, FhirRequestsAtOnce: 1), mine);
        Assert.Equal((3, 4, 2), (persona.FhirRequests, persona.TokenRequests, persona.RefreshRequests));
        Assert.Equal((0, 0, 0), (epic.FhirRequests, epic.TokenRequests, epic.RefreshRequests));
        Assert.Equal((0, 0, 0), (reset.FhirRequests, reset.TokenRequests, reset.RefreshRequests));
    }

    [Fact]
    public async Task The_most_FHIR_requests_a_patient_had_under_way_at_once_are_counted_until_a_reset()
    {
        var patient = await sandbox.PatientAsync("cerner", 3);
        var fhirBase = Server.FhirBase("cerner", "r4");
        // Slow answers, so that requests sent together are under way together.
        await Server.InjectFaultAsync(new FaultSpec("cerner", "latency") { PatientId = patient.PatientId, LatencyMs = 300 });
        await Server.ResetRequestCountsAsync("cerner", patient.PatientId);
        using var client = await Server.PatientClientAsync("cerner", "r4", patient.PatientId);

        await Task.WhenAll(new[] { "Condition", "Observation", "Encounter" }.Select(type => client.GetJsonAsync(new Uri(fhirBase, $"{type}?patient={patient.PatientId}"))));
        var together = await Server.RequestCountsAsync("cerner", patient.PatientId);
        await Server.ResetRequestCountsAsync("cerner", patient.PatientId);
        await client.GetJsonAsync(new Uri(fhirBase, $"Condition?patient={patient.PatientId}"));
        await client.GetJsonAsync(new Uri(fhirBase, $"Encounter?patient={patient.PatientId}"));
        var oneByOne = await Server.RequestCountsAsync("cerner", patient.PatientId);
        await Server.ClearFaultsAsync("cerner", patient.PatientId);

        Assert.Equal((3, 3), (together.FhirRequests, together.FhirRequestsAtOnce));
        Assert.Equal((2, 1), (oneByOne.FhirRequests, oneByOne.FhirRequestsAtOnce));
    }
}
