using System.Text.Json;
using Aggregator.IntegrationTests.Infrastructure;
using Aggregator.Sandbox.Tests.Hosting;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Microsoft.EntityFrameworkCore;
using Task = System.Threading.Tasks.Task;

namespace Aggregator.IntegrationTests.Sync;

/// <summary>Data we did not shape ourselves: every patient of the sample patients, served by the sandbox, syncs whole.</summary>
public sealed class SampleSyncTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox, jobServer: true)
{
    private static readonly HashSet<string> DirectoryTypes = new(StringComparer.Ordinal) { "Practitioner", "Organization", "Location", "Medication" };

    [Fact]
    public async Task Every_sample_patient_r4_and_dstu2_syncs_whole_lands_in_the_record_and_has_a_valid_fhir_view()
    {
        var logins = Sandbox.Logins.Where(l => l.Persona == "nextgen" && l.Source != "generated").ToList();
        Assert.Equal(FhirSamples.Files("r4").Count(f => !Path.GetFileName(f).Contains("Information", StringComparison.Ordinal)) + FhirSamples.Files("dstu2").Count, logins.Count);
        var connections = new List<(SandboxLogin Login, Guid ConnectionId)>();
        foreach (var login in logins)
        {
            var slug = login.FhirVersion == "R4" ? "sandbox-nextgen-r4" : "sandbox-nextgen-dstu2";
            connections.Add((login, (await Api.ConnectAsync(Tenant, Sandbox, slug, login)).ConnectionId));
        }

        foreach (var (login, connectionId) in connections)
        {
            var run = await Tenant.WaitForRunAsync(connectionId, limit: TimeSpan.FromMinutes(4));
            Assert.True(run.GetProperty("status").GetString() == "succeeded", $"{login.Source}: {run}");
            var expected = FileCounts(login.FhirVersion == "R4" ? "r4" : "dstu2", login.Source);
            var stored = await StoredCountsAsync(connectionId);
            Assert.Equal(expected.OrderBy(p => p.Key).ToList(), stored.OrderBy(p => p.Key).ToList());

            // Nothing lost: every clinical resource is a source of exactly one merged item.
            var patientId = await PatientOfAsync(connectionId);
            var inRecord = await Tenant.SourcesInRecordAsync(patientId);
            Assert.Equal(await ClinicalResourcesAsync(connectionId), inRecord.Order(StringComparer.Ordinal).ToList());

            // And the FHIR view of the record parses (strictly) and validates against the R4 core definitions.
            var json = await Tenant.GetStringAsync(new Uri($"/fhir/r4/Patient/{patientId}/$everything", UriKind.Relative), TestContext.Current.CancellationToken);
            var bundle = (Bundle)StrictParser.DeserializeResource(json);
            var outcome = FhirValidation.Validate(bundle);
            Assert.True(FhirValidation.Errors(outcome).Count == 0, $"{login.Source}: {FhirValidation.Describe(outcome)}");
        }
    }

    private static readonly FhirJsonDeserializer StrictParser = new(new DeserializerSettings());

    private async Task<Guid> PatientOfAsync(Guid connectionId)
    {
        await using var db = Database.CreateContext();
        return await db.Connections.Where(c => c.Id == connectionId).Select(c => c.PatientId).SingleAsync();
    }

    private async Task<List<string>> ClinicalResourcesAsync(Guid connectionId)
    {
        await using var db = Database.CreateContext();
        var rows = await db.SourceResources.Where(r => r.ConnectionId == connectionId && r.DeletedAt == null && !DirectoryTypes.Contains(r.ResourceType) && r.ResourceType != "Binary")
            .Select(r => r.ResourceType + "/" + r.ResourceId).ToListAsync();
        return rows.Order(StringComparer.Ordinal).ToList();
    }

    private async Task<Dictionary<string, int>> StoredCountsAsync(Guid connectionId)
    {
        await using var db = Database.CreateContext();
        var rows = await db.SourceResources.Where(r => r.ConnectionId == connectionId && r.DeletedAt == null && !DirectoryTypes.Contains(r.ResourceType))
            .GroupBy(r => r.ResourceType).Select(g => new { g.Key, Count = g.Count() }).ToListAsync();
        return rows.ToDictionary(r => r.Key, r => r.Count, StringComparer.Ordinal);
    }

    private static Dictionary<string, int> FileCounts(string version, string source)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(FhirSamples.Directory, version, source + ".json")));
        return document.RootElement.GetProperty("entry").EnumerateArray()
            .Select(e => e.GetProperty("resource").GetProperty("resourceType").GetString()!)
            .Where(t => !DirectoryTypes.Contains(t))
            .GroupBy(t => t)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
    }
}
