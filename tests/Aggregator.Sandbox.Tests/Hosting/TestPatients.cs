using System.Net.Http.Json;

namespace Aggregator.Sandbox.Tests.Hosting;

/// <summary>One entry of <c>GET /_test/patients</c>.</summary>
public sealed record TestPatient(string Persona, string FhirVersion, string PatientId, string PersonId,
    string Username, string Password, string Name, string Source);

public static class TestPatients
{
    /// <summary>The patients and their portal logins, from the test API (which must be on).</summary>
    public static async Task<List<TestPatient>> TestPatientsAsync(this SandboxServer sandbox)
    {
        using var client = sandbox.CreateClient();
        return (await client.GetFromJsonAsync<List<TestPatient>>(new Uri("_test/patients", UriKind.Relative), TestContext.Current.CancellationToken))!;
    }

    public static async Task<TestPatient> TestPatientAsync(this SandboxServer sandbox, string persona, string version, string patientId) =>
        (await sandbox.TestPatientsAsync()).Single(p => p.Persona == persona
            && string.Equals(p.FhirVersion, version, StringComparison.OrdinalIgnoreCase) && p.PatientId == patientId);

    /// <summary>
    /// An HTTP client carrying a patient's access token for one FHIR base (all of the patient's data), obtained
    /// through the real portal with the persona's public client.
    /// </summary>
    public static async Task<HttpClient> PatientClientAsync(this SandboxServer sandbox, string persona, string version, string patientId,
        string scope = "launch/patient openid fhirUser patient/*.read")
    {
        var patient = await sandbox.TestPatientAsync(persona, version, patientId);
        var tokens = await new SmartApp(sandbox, SandboxClient.Public(persona)).SignInAsync(sandbox.FhirBase(persona, version), patient, scope);
        var client = sandbox.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", tokens.AccessToken);
        return client;
    }
}
