using System.Text.Json;
using Aggregator.IntegrationTests.Infrastructure;
using Aggregator.Sandbox.Tests.Hosting;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Aggregator.IntegrationTests.Sync;

/// <summary>The first sync of a connection stores exactly what the provider holds for the patient, once.</summary>
public sealed class FirstSyncTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox, jobServer: true)
{
    private static readonly HashSet<string> ReferencedTypes = new(StringComparer.Ordinal) { "Practitioner", "Organization", "Location", "Medication" };

    [Fact]
    public async Task The_first_sync_of_an_r4_persona_stores_every_resource_of_the_patients_file_once()
    {
        var login = Sandbox.Login("nextgen", "R4", 0);
        var (_, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-nextgen-r4", login);

        var run = await Tenant.WaitForRunAsync(connectionId);

        Assert.Equal("succeeded", run.GetProperty("status").GetString());
        var stored = await StoredAsync(connectionId);
        var expected = FileResources("r4", login.Source);
        Assert.Equal(expected.Order().ToList(), stored.Where(k => !ReferencedTypes.Contains(k.Type)).Order().ToList());
        Assert.Contains(stored, k => k.Type == "Practitioner");
        Assert.Contains(stored, k => k.Type == "Organization");
        var types = run.GetProperty("types");
        Assert.Equal(expected.Count(k => k.Type == "Observation"), types.GetProperty("Observation").GetProperty("new").GetInt32());
    }

    [Fact]
    public async Task The_first_sync_of_the_nextgen_dstu2_base_stores_every_resource_under_its_dstu2_name_and_keeps_the_original()
    {
        var login = Sandbox.Logins.First(l => l.Persona == "nextgen" && l.FhirVersion == "DSTU2" && l.Source.StartsWith("patient-", StringComparison.Ordinal));
        var (_, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-nextgen-dstu2", login);

        var run = await Tenant.WaitForRunAsync(connectionId);

        Assert.Equal("succeeded", run.GetProperty("status").GetString());
        var expected = FileResources("dstu2", login.Source).GroupBy(k => k.Type).ToDictionary(g => g.Key, g => g.Count());
        var stored = (await StoredAsync(connectionId)).Where(k => !ReferencedTypes.Contains(k.Type)).GroupBy(k => k.Type).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(expected.OrderBy(p => p.Key).ToList(), stored.OrderBy(p => p.Key).ToList());
        await using var db = Database.CreateContext();
        var rows = await db.SourceResources.Where(r => r.ConnectionId == connectionId).ToListAsync(TestContext.Current.CancellationToken);
        Assert.All(rows, r => Assert.NotNull(r.Original));
        // Every mapped DSTU2 type is stored converted too, under its R4 name inside the JSON.
        Assert.All(rows.Where(r => Aggregator.Domain.Fhir.Dstu2.Dstu2ToR4.IsMapped(r.ResourceType)), r =>
        {
            Assert.NotNull(r.Resource);
            Assert.Equal(Aggregator.Domain.Fhir.Dstu2.Dstu2ToR4.R4TypeOf(r.ResourceType), JsonDocument.Parse(r.Resource!).RootElement.GetProperty("resourceType").GetString());
        });
        Assert.Equal("succeeded", run.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_second_sync_of_unchanged_data_rewrites_nothing()
    {
        var login = Sandbox.Login("cerner", "R4", 1);
        var (_, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-cerner-r4", login);
        await Tenant.WaitForRunAsync(connectionId);
        var before = await RowVersionsAsync(connectionId);

        var second = await Tenant.SyncNowAsync(connectionId);

        Assert.Equal("succeeded", second.GetProperty("status").GetString());
        var totals = second.GetProperty("types").EnumerateObject().Select(t => t.Value).ToList();
        Assert.Equal(0, totals.Sum(t => t.GetProperty("new").GetInt32() + t.GetProperty("changed").GetInt32()));
        Assert.True(totals.Sum(t => t.GetProperty("unchanged").GetInt32()) > 0);
        Assert.Equal(before, await RowVersionsAsync(connectionId));
    }

    [Fact]
    public async Task The_sync_runs_list_and_coverage_say_what_happened()
    {
        var login = Sandbox.Login("epic", "R4", 2);
        var (_, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-epic-r4", login);
        await Tenant.WaitForRunAsync(connectionId);

        var runs = await Tenant.GetJsonAsync($"/v1/connections/{connectionId}/sync-runs");
        var coverage = await Tenant.GetJsonAsync($"/v1/connections/{connectionId}/coverage");

        var run = runs.GetProperty("items")[0];
        Assert.Equal("initial", run.GetProperty("trigger").GetString());
        Assert.True(run.GetProperty("pages").GetInt32() > 0, run.ToString());
        Assert.NotNull(run.GetProperty("startedAt").GetString());
        Assert.NotNull(run.GetProperty("finishedAt").GetString());
        var states = coverage.GetProperty("items").EnumerateArray().ToDictionary(i => i.GetProperty("resourceType").GetString()!, i => i.GetProperty("state").GetString());
        Assert.Equal("synced", states["Observation"]);
        Assert.Equal("synced", states["Condition"]);
        Assert.Contains(states, s => s.Value == "empty");
    }

    [Fact]
    public async Task The_sync_runs_page_newest_first_with_a_cursor_and_miss_none()
    {
        var (_, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-epic-r4", Sandbox.Login("epic", "R4", 3));
        await Tenant.WaitForRunAsync(connectionId);
        for (var i = 0; i < 4; i++)
        {
            await Tenant.SyncNowAsync(connectionId);
        }

        var all = (await Tenant.GetJsonAsync($"/v1/connections/{connectionId}/sync-runs")).GetProperty("items").EnumerateArray()
            .Select(r => r.GetProperty("id").GetGuid()).ToList();
        var paged = new List<Guid>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await Tenant.GetJsonAsync($"/v1/connections/{connectionId}/sync-runs?limit=2" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            var items = page.GetProperty("items").EnumerateArray().ToList();
            Assert.InRange(items.Count, 1, 2);
            paged.AddRange(items.Select(r => r.GetProperty("id").GetGuid()));
            cursor = page.GetProperty("nextCursor").GetString();
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(5, all.Count);
        Assert.Equal(all, paged);
        Assert.Equal(3, pages);
        var queued = (await Tenant.GetJsonAsync($"/v1/connections/{connectionId}/sync-runs")).GetProperty("items").EnumerateArray()
            .Select(r => r.GetProperty("queuedAt").GetDateTimeOffset()).ToList();
        Assert.Equal(queued.OrderDescending().ToList(), queued);
        var forged = await Tenant.GetAsync(new Uri($"/v1/connections/{connectionId}/sync-runs?cursor=not-ours", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal("application/problem+json", forged.Content.Headers.ContentType?.MediaType);
    }

    private async Task<List<(string Type, string Id)>> StoredAsync(Guid connectionId)
    {
        await using var db = Database.CreateContext();
        var rows = await db.SourceResources.Where(r => r.ConnectionId == connectionId && r.DeletedAt == null).Select(r => new { r.ResourceType, r.ResourceId }).ToListAsync();
        return rows.Select(r => (r.ResourceType, r.ResourceId)).ToList();
    }

    private async Task<Dictionary<string, uint>> RowVersionsAsync(Guid connectionId)
    {
        await using var connection = new NpgsqlConnection(Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT resource_type || '/' || resource_id, xmin FROM source_resources WHERE connection_id = $1", connection);
        command.Parameters.AddWithValue(connectionId);
        await using var reader = await command.ExecuteReaderAsync();
        var versions = new Dictionary<string, uint>(StringComparer.Ordinal);
        while (await reader.ReadAsync())
        {
            versions[reader.GetString(0)] = reader.GetFieldValue<uint>(1);
        }

        return versions;
    }

    /// <summary>The (type, id) of every resource in a sample file except the directory types (the sandbox serves those by read).</summary>
    private static List<(string Type, string Id)> FileResources(string version, string source)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(FhirSamples.Directory, version, source + ".json")));
        return document.RootElement.GetProperty("entry").EnumerateArray()
            .Select(e => e.GetProperty("resource"))
            .Select(r => (Type: r.GetProperty("resourceType").GetString()!, Id: r.TryGetProperty("id", out var id) ? id.GetString()! : ""))
            .Where(k => !ReferencedTypes.Contains(k.Type))
            .ToList();
    }
}
