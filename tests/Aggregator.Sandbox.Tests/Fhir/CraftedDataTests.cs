using System.Net;
using Aggregator.Sandbox.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Aggregator.Sandbox.Tests.Fhir;

/// <summary>Loading rules and search features the sample patients do not exercise, over a bundle made here.</summary>
public sealed class CraftedDataTests : IAsyncLifetime
{
    private static readonly TimeSpan LinkLifetime = TimeSpan.FromMinutes(5);

    private readonly CraftedData _data = new();
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private SandboxServer _server = null!;

    private Uri R4 => _server.FhirBase("nextgen", "r4");

    public async ValueTask InitializeAsync() =>
        _server = await SandboxServer.StartAsync(
            new Dictionary<string, string?>
            {
                ["Sandbox:DataDir"] = _data.Directory,
                ["Sandbox:TestApi"] = "true",
                ["Sandbox:Paging:LinkLifetime"] = LinkLifetime.ToString(),
            },
            services => services.AddSingleton<TimeProvider>(_clock));

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _data.Dispose();
    }

    [Fact]
    public async Task Next_links_work_until_the_configured_lifetime_then_answer_410_Gone()
    {
        using var client = await _server.PatientClientAsync("nextgen", "r4", CraftedData.PatientUuid);
        var first = await client.GetJsonAsync(new Uri(R4, $"Observation?patient={CraftedData.PatientUuid}&_count=10"));
        var next = FhirHttp.NextLink(first)!;

        _clock.Advance(LinkLifetime - TimeSpan.FromSeconds(1));
        var second = await client.GetJsonAsync(next);
        _clock.Advance(TimeSpan.FromSeconds(2));
        var expired = await client.GetJsonAsync(next, HttpStatusCode.Gone);

        Assert.Equal(10, second.Matches().Count());
        Assert.Equal("OperationOutcome", (string?)expired["resourceType"]);
    }

    [Fact]
    public async Task Urn_uuid_references_are_served_as_relative_references_to_resources_that_exist()
    {
        using var client = await _server.PatientClientAsync("nextgen", "r4", CraftedData.PatientUuid);

        var orders = await client.GetJsonAsync(new Uri(R4, $"MedicationRequest?patient={CraftedData.PatientUuid}"));

        Assert.Equal(3, (int)orders["total"]!);
        foreach (var order in orders.Matches())
        {
            Assert.Equal($"Patient/{CraftedData.PatientUuid}", (string?)order["subject"]!["reference"]);
            var medication = await client.GetJsonAsync(new Uri(R4, (string)order["medicationReference"]!["reference"]!));
            Assert.Equal(CraftedData.MedicationUuid, (string?)medication["id"]);
        }
    }

    [Fact]
    public async Task Include_medication_and_revinclude_provenance_add_the_related_resources_once()
    {
        using var client = await _server.PatientClientAsync("nextgen", "r4", CraftedData.PatientUuid);

        var bundle = await client.GetJsonAsync(new Uri(R4,
            $"MedicationRequest?patient={CraftedData.PatientUuid}&_include=MedicationRequest:medication&_revinclude=Provenance:target"));

        Assert.Equal(3, bundle.Matches().Count());
        var included = bundle.Included().Select(r => $"{r["resourceType"]}/{r["id"]}").ToList();
        Assert.Equal(
            new[] { $"Medication/{CraftedData.MedicationUuid}", "Provenance/6f1c2a4e-0000-4000-8000-000000000300" }.Order(),
            included.Order());
    }

    [Fact]
    public async Task Included_resources_are_limited_to_the_granted_scopes()
    {
        var patient = await _server.TestPatientAsync("nextgen", "r4", CraftedData.PatientUuid);
        var tokens = await new SmartApp(_server, SandboxClient.Public("nextgen"))
            .SignInAsync(R4, patient, "launch/patient patient/MedicationRequest.rs");
        using var client = _server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", tokens.AccessToken);

        var bundle = await client.GetJsonAsync(new Uri(R4,
            $"MedicationRequest?patient={CraftedData.PatientUuid}&_include=MedicationRequest:medication&_revinclude=Provenance:target"));

        Assert.Equal(3, bundle.Matches().Count());
        Assert.Empty(bundle.Included());
    }

    [Fact]
    public async Task A_resource_without_id_or_fullUrl_gets_an_id_that_survives_a_restart()
    {
        using var client = await _server.PatientClientAsync("nextgen", "r4", CraftedData.PatientUuid);
        var goal = (await client.GetJsonAsync(new Uri(R4, $"Goal?patient={CraftedData.PatientUuid}"))).Matches().Single();

        await using var restarted = await SandboxServer.StartAsync(
            new Dictionary<string, string?> { ["Sandbox:DataDir"] = _data.Directory, ["Sandbox:TestApi"] = "true" },
            cancellationToken: TestContext.Current.CancellationToken);
        using var restartedClient = await restarted.PatientClientAsync("nextgen", "r4", CraftedData.PatientUuid);
        var again = await restartedClient.GetJsonAsync(new Uri(restarted.FhirBase("nextgen", "r4"), $"Goal/{goal["id"]}"));

        Assert.Equal((string?)goal["id"], (string?)again["id"]);
        Assert.Equal((string?)goal["meta"]!["lastUpdated"], (string?)again["meta"]!["lastUpdated"]);
    }

    [Fact]
    public async Task Resources_without_meta_lastUpdated_get_their_clinical_date()
    {
        using var client = await _server.PatientClientAsync("nextgen", "r4", CraftedData.PatientUuid);

        var observations = await client.GetJsonAsync(new Uri(R4, $"Observation?patient={CraftedData.PatientUuid}&_lastUpdated=lt2020-01-05"));

        Assert.Equal(4, (int)observations["total"]!);
        Assert.All(observations.Matches(), o => Assert.Equal((string?)o["effectiveDateTime"], (string?)o["meta"]!["lastUpdated"]));
    }
}
