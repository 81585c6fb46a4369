using System.Net;
using System.Net.Http.Headers;
using Aggregator.Sandbox.Tests.Hosting;

namespace Aggregator.Sandbox.Tests.OAuth;

/// <summary>The FHIR API answers only to access tokens issued for its own base and patient (RFC 6750 responses).</summary>
public sealed class FhirAccessTests(SamplesSandbox sandbox)
{
    private SandboxServer Server => sandbox.Server;

    private Uri NextgenR4 => Server.FhirBase("nextgen", "r4");

    [Fact]
    public async Task Requests_without_a_valid_token_get_401_with_a_bearer_challenge()
    {
        var patient = (await Server.TestPatientsAsync()).First(p => p.Persona == "nextgen" && p.FhirVersion == "R4");
        using var anonymous = Server.CreateClient();
        using var forged = Server.CreateClient();
        forged.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.");

        using var noToken = await anonymous.GetAsync(new Uri(NextgenR4, $"Patient/{patient.PatientId}"), TestContext.Current.CancellationToken);
        using var badToken = await forged.GetAsync(new Uri(NextgenR4, $"Condition?patient={patient.PatientId}"), TestContext.Current.CancellationToken);
        using var metadata = await anonymous.GetAsync(new Uri(NextgenR4, "metadata"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        Assert.Equal("Bearer", noToken.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal(HttpStatusCode.Unauthorized, badToken.StatusCode);
        Assert.Contains("error=\"invalid_token\"", badToken.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, metadata.StatusCode);
    }

    [Fact]
    public async Task A_token_works_only_at_the_base_it_was_issued_for()
    {
        var patient = (await Server.TestPatientsAsync()).First(p => p.Persona == "nextgen" && p.FhirVersion == "R4");
        using var client = await sandbox.PatientClientAsync("nextgen", "r4", patient.PatientId);

        using var epic = await client.GetAsync(new Uri(Server.FhirBase("epic", "r4"), $"Patient/e-{patient.PatientId}"), TestContext.Current.CancellationToken);
        using var dstu2 = await client.GetAsync(new Uri(Server.FhirBase("nextgen", "dstu2"), "Patient"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, epic.StatusCode);
        Assert.Contains("invalid_token", epic.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, dstu2.StatusCode);
    }

    [Fact]
    public async Task A_patients_token_does_not_reach_another_patients_data()
    {
        var patients = (await Server.TestPatientsAsync()).Where(p => p.Persona == "nextgen" && p.FhirVersion == "R4").Take(2).ToList();
        using var client = await sandbox.PatientClientAsync("nextgen", "r4", patients[0].PatientId);

        var search = await client.GetJsonAsync(new Uri(NextgenR4, $"Condition?patient={patients[1].PatientId}"), HttpStatusCode.Forbidden);
        var read = await client.GetJsonAsync(new Uri(NextgenR4, $"Patient/{patients[1].PatientId}"), HttpStatusCode.Forbidden);
        var own = await client.GetJsonAsync(new Uri(NextgenR4, "Patient"));

        Assert.Equal("forbidden", search.IssueCode());
        Assert.Equal("forbidden", read.IssueCode());
        Assert.Equal(patients[0].PatientId, (string?)own.Matches().Single()["id"]);
    }

    [Fact]
    public async Task An_expired_access_token_gets_401_and_the_refresh_token_gets_a_new_one()
    {
        await using var shortLived = await SandboxServer.StartAsync(
            new Dictionary<string, string?>
            {
                ["Sandbox:DataDir"] = FhirSamples.Directory,
                ["Sandbox:TestApi"] = "true",
                // Short enough to outlive in a test, long enough that a busy machine can still use the renewed token.
                ["Sandbox:Tokens:AccessTokenLifetime"] = "00:00:04",
            },
            cancellationToken: TestContext.Current.CancellationToken);
        var patient = (await shortLived.TestPatientsAsync()).First(p => p.Persona == "cerner");
        var app = new SmartApp(shortLived, SandboxClient.Confidential("cerner"));
        var aud = shortLived.FhirBase("cerner", "r4");
        var tokens = await app.SignInAsync(aud, patient, "launch/patient offline_access patient/*.read");
        Assert.InRange((int)tokens.Body["expires_in"]!, 0, 4);

        await Task.Delay(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        using var expired = shortLived.CreateClient();
        expired.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
        using var refused = await expired.GetAsync(new Uri(aud, $"Patient/{patient.PatientId}"), TestContext.Current.CancellationToken);
        var refreshed = await app.RefreshAsync(tokens.RefreshToken!);
        using var renewed = shortLived.CreateClient();
        renewed.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", refreshed.AccessToken);
        var read = await renewed.GetJsonAsync(new Uri(aud, $"Patient/{patient.PatientId}"));

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("invalid_token", refused.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal(patient.PatientId, (string?)read["id"]);
    }
}
