using System.Net;
using System.Net.Http.Json;
using Aggregator.Sandbox.Tests.Hosting;

namespace Aggregator.Sandbox.Tests.TestApi;

public sealed class TestPatientListTests(SamplesSandbox sandbox)
{
    [Fact]
    public async Task Lists_every_loaded_patient_once_per_persona_and_version_with_a_login()
    {
        using var client = sandbox.Server.CreateClient();

        var patients = await client.GetFromJsonAsync<List<TestPatient>>(new Uri("_test/patients", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.NotNull(patients);
        var r4Files = FhirSamples.Files("r4").Select(Path.GetFileNameWithoutExtension)
            .Where(f => !f!.StartsWith("hospitalInformation", StringComparison.Ordinal) && !f.StartsWith("practitionerInformation", StringComparison.Ordinal))
            .ToList();
        var dstu2Files = FhirSamples.Files("dstu2").Select(Path.GetFileNameWithoutExtension).ToList();
        foreach (var persona in new[] { "nextgen", "epic", "cerner" })
        {
            Assert.Equal(r4Files.Order(), patients.Where(p => p.Persona == persona && p.FhirVersion == "R4" && p.Source != "generated").Select(p => p.Source).Order());
        }

        Assert.Equal(dstu2Files.Order(), patients.Where(p => p.Persona == "nextgen" && p.FhirVersion == "DSTU2" && p.Source != "generated").Select(p => p.Source).Order());
        Assert.DoesNotContain(patients, p => p.Persona != "nextgen" && p.FhirVersion == "DSTU2");
        Assert.All(patients, p => Assert.False(string.IsNullOrWhiteSpace(p.Username) || string.IsNullOrWhiteSpace(p.Password) || string.IsNullOrWhiteSpace(p.Name)));
        Assert.Equal(patients.Count, patients.Select(p => (p.Persona, p.FhirVersion, p.Username)).Distinct().Count());

        // One person keeps one personId across personas, under each persona's own patient id.
        var abdul = patients.Where(p => p.Source.StartsWith("Abdul_Koepp", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, abdul.Count);
        Assert.Single(abdul.Select(p => p.PersonId).Distinct());
        Assert.Equal(3, abdul.Select(p => p.PatientId).Distinct().Count());
        Assert.Equal("Abdul Koepp", abdul[0].Name);
    }

    [Fact]
    public async Task Every_listed_login_signs_in_at_its_persona_and_reads_its_own_patient()
    {
        var patients = await sandbox.Server.TestPatientsAsync();

        foreach (var patient in patients)
        {
            var version = patient.FhirVersion.ToLowerInvariant();
            using var client = await sandbox.PatientClientAsync(patient.Persona, version, patient.PatientId);
            var served = await client.GetJsonAsync(new Uri(sandbox.Server.FhirBase(patient.Persona, version), $"Patient/{patient.PatientId}"));
            Assert.Equal("Patient", (string?)served["resourceType"]);
        }
    }

    [Fact]
    public async Task The_test_API_is_off_unless_configured()
    {
        await using var plain = await SandboxServer.StartAsync(new Dictionary<string, string?>(), cancellationToken: TestContext.Current.CancellationToken);
        using var client = plain.CreateClient();

        using var response = await client.GetAsync(new Uri("_test/patients", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
