using System.Text.Json;
using Aggregator.IntegrationTests.Infrastructure;
using Aggregator.Sandbox.Tests.Hosting;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.IntegrationTests.Sync;

/// <summary>Data we did not shape ourselves: every patient of the shared samples, served by the sandbox, syncs whole.</summary>
public sealed class SampleSyncTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox, jobServer: true)
{
    private static readonly HashSet<string> DirectoryTypes = new(StringComparer.Ordinal) { "Practitioner", "Organization", "Location", "Medication" };

    [Fact]
    public async Task Every_sample_patient_r4_and_dstu2_syncs_whole_at_nextgen()
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
        }
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
