using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aggregator.IntegrationTests.Infrastructure;
using Aggregator.Sandbox.Tests.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.IntegrationTests.Sync;

/// <summary>
/// What providers do wrong, injected by the sandbox for one generated patient each (so that tests
/// sharing the sandbox never see each other's faults): the sync recovers, or says exactly why not.
/// </summary>
public sealed class SyncFaultTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox, jobServer: true,
    // Small pages, so that paging faults have pages to act on.
    settings: new Dictionary<string, string?> { ["Sync:MaxPageSize"] = "10" })
{
    [Fact]
    public async Task A_running_sync_shows_its_per_type_counts_so_far()
    {
        var login = Sandbox.Login("cerner", "R4", 7);
        await Sandbox.Server.InjectFaultAsync(new FaultSpec("cerner", "latency") { PatientId = login.PatientId, LatencyMs = 150 });
        var (_, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-cerner-r4", login);

        JsonElement running;
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90)))
        {
            do
            {
                await Task.Delay(100, timeout.Token);
                running = (await Tenant.GetJsonAsync($"/v1/connections/{connectionId}/sync-runs")).GetProperty("items")[0];
            }
            while (running.GetProperty("status").GetString() != "running" || running.GetProperty("resourcesSoFar").GetInt32() < 20);
        }

        var finished = await Tenant.WaitForRunAsync(connectionId);
        var soFar = running.GetProperty("resourcesSoFar").GetInt32();
        Assert.Equal(soFar, running.GetProperty("types").EnumerateObject().Sum(t => t.Value.GetProperty("fetched").GetInt32()));
        Assert.True(finished.GetProperty("resourcesSoFar").GetInt32() > soFar);
        Assert.Equal(running.GetProperty("id").GetGuid(), finished.GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task A_rate_limit_storm_with_retry_after_is_waited_out_and_nothing_is_lost()
    {
        var login = Sandbox.Generated("epic", "R4", 3);
        var (_, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-epic-r4", login);
        var clean = await Tenant.WaitForRunAsync(connectionId);
        var stored = await StoredCountAsync(connectionId);
        await Sandbox.Server.InjectFaultAsync(new FaultSpec("epic", "rate-limit") { PatientId = login.PatientId, Count = 2, RetryAfterSeconds = 1 });
        await Sandbox.Server.InjectFaultAsync(new FaultSpec("epic", "rate-limit") { PatientId = login.PatientId, Count = 1, RetryAfterSeconds = 1, RetryAfterDate = true });
        await Sandbox.Server.InjectFaultAsync(new FaultSpec("epic", "server-error") { PatientId = login.PatientId, Count = 2, Status = 503 });

        var run = await Tenant.SyncNowAsync(connectionId);

        Assert.Equal("succeeded", clean.GetProperty("status").GetString());
        Assert.Equal("succeeded", run.GetProperty("status").GetString());
        Assert.Equal(stored, await StoredCountAsync(connectionId));
        Assert.Empty(await Sandbox.Server.FaultsAsync() is var faults ? faults.Where(f => f.PatientId == login.PatientId) : []);
    }

    [Fact]
    public async Task Access_tokens_expiring_mid_paging_cost_exactly_one_refresh_and_the_same_page_is_asked_again()
    {
        var login = Sandbox.Generated("nextgen", "R4", 3);
        await Sandbox.Server.InjectFaultAsync(new FaultSpec("nextgen", "latency") { PatientId = login.PatientId, LatencyMs = 100 });
        var (_, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-nextgen-r4", login);
        await Tenant.WaitForRunAsync(connectionId);
        await Sandbox.Server.ResetRequestCountsAsync("nextgen", login.PatientId);

        var response = await Tenant.PostAsync(new Uri($"/v1/connections/{connectionId}/sync?full=true", UriKind.Relative), null, TestContext.Current.CancellationToken);
        var runId = (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<System.Text.Json.JsonElement>(response.Content, TestContext.Current.CancellationToken)).GetProperty("syncRunId").GetGuid();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90)))
        {
            // Well into the paging of the full sync.
            while ((await Sandbox.Server.RequestCountsAsync("nextgen", login.PatientId)).FhirRequests < 12)
            {
                await Task.Delay(20, timeout.Token);
            }
        }

        await Sandbox.Server.InjectFaultAsync(new FaultSpec("nextgen", "expire-tokens") { PatientId = login.PatientId });
        var run = await Tenant.WaitForRunAsync(connectionId, runId);
        await Sandbox.Server.ClearFaultsAsync("nextgen", login.PatientId);

        Assert.Equal("succeeded", run.GetProperty("status").GetString());
        Assert.Equal(1, (await Sandbox.Server.RequestCountsAsync("nextgen", login.PatientId)).RefreshRequests);
        Assert.Equal(0, run.GetProperty("types").EnumerateObject().Sum(t => t.Value.GetProperty("new").GetInt32() + t.Value.GetProperty("changed").GetInt32()));
    }

    [Fact]
    public async Task A_revoked_grant_moves_the_connection_to_reauth_required_without_a_retry_storm()
    {
        var login = Sandbox.Generated("nextgen", "R4", 4);
        var (_, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-nextgen-r4", login);
        await Tenant.WaitForRunAsync(connectionId);
        await Sandbox.Server.ResetRequestCountsAsync("nextgen", login.PatientId);
        await Sandbox.Server.InjectFaultAsync(new FaultSpec("nextgen", "revoke-grant") { PatientId = login.PatientId });

        var run = await Tenant.SyncNowAsync(connectionId);
        var again = await Tenant.PostAsync(new Uri($"/v1/connections/{connectionId}/sync", UriKind.Relative), null, TestContext.Current.CancellationToken);

        Assert.Equal("failed", run.GetProperty("status").GetString());
        Assert.StartsWith("reauth_required", run.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("reauth_required", (await Tenant.GetJsonAsync($"/v1/connections/{connectionId}")).GetProperty("status").GetString());
        var counts = await Sandbox.Server.RequestCountsAsync("nextgen", login.PatientId);
        Assert.Equal(1, counts.RefreshRequests);
        Assert.InRange(counts.FhirRequests, 1, 2);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task A_malformed_resource_is_kept_aside_and_the_rest_of_the_page_is_stored()
    {
        var login = Sandbox.Generated("epic", "R4", 4);
        var (_, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-epic-r4", login);
        await Tenant.WaitForRunAsync(connectionId);
        var before = await StoredCountAsync(connectionId);
        await Sandbox.Server.InjectFaultAsync(new FaultSpec("epic", "malformed-resource") { PatientId = login.PatientId, Count = 1 });

        // A full sync, so that the pages hold resources (an incremental one finds nothing new to serve).
        var run = await FullSyncAsync(connectionId);

        Assert.Equal("partial", run.GetProperty("status").GetString());
        Assert.Equal(1, run.GetProperty("types").EnumerateObject().Sum(t => t.Value.GetProperty("malformed").GetInt32()));
        await using var db = Database.CreateContext();
        var setAside = await db.SourceResources.Where(r => r.ConnectionId == connectionId && r.Error != null).ToListAsync(TestContext.Current.CancellationToken);
        var kept = Assert.Single(setAside);
        Assert.NotNull(kept.Original);
        Assert.Null(kept.Resource);
        // The malformed copy replaced the good one; everything else is still there.
        Assert.Equal(before, await StoredCountAsync(connectionId));
    }

    [Fact]
    public async Task Changes_at_the_provider_are_picked_up_by_the_next_sync_and_a_full_sync_finds_deletions()
    {
        var login = Sandbox.Generated("nextgen", "R4", 5);
        var (_, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-nextgen-r4", login);
        await Tenant.WaitForRunAsync(connectionId);
        await using var db = Database.CreateContext();
        var condition = await db.SourceResources.FirstAsync(r => r.ConnectionId == connectionId && r.ResourceType == "Condition", TestContext.Current.CancellationToken);
        var immunization = await db.SourceResources.FirstAsync(r => r.ConnectionId == connectionId && r.ResourceType == "Immunization", TestContext.Current.CancellationToken);

        var added = await Sandbox.Server.AddResourceAsync("nextgen", "r4", login.PatientId, new JsonObject
        {
            ["resourceType"] = "Observation",
            ["status"] = "final",
            ["category"] = new JsonArray(new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://terminology.hl7.org/CodeSystem/observation-category", ["code"] = "laboratory" }) }),
            ["code"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://loinc.org", ["code"] = "2947-0", ["display"] = "Sodium" }) },
            ["subject"] = new JsonObject { ["reference"] = $"Patient/{login.PatientId}" },
            ["effectiveDateTime"] = "2026-11-01T09:30:00Z",
            ["valueQuantity"] = new JsonObject { ["value"] = 139, ["unit"] = "mmol/L", ["system"] = "http://unitsofmeasure.org", ["code"] = "mmol/L" },
        });
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var changed = JsonNode.Parse(condition.Resource!)!.AsObject();
        changed["note"] = new JsonArray(new JsonObject { ["text"] = "Reviewed at follow-up." });
        Assert.True((await Sandbox.Server.ReplaceResourceAsync("nextgen", "r4", "Condition", condition.ResourceId, changed)).IsSuccessStatusCode);
        Assert.True((await Sandbox.Server.DeleteResourceAsync("nextgen", "r4", "Immunization", immunization.ResourceId)).IsSuccessStatusCode);

        var incremental = await Tenant.SyncNowAsync(connectionId);
        var full = await FullSyncAsync(connectionId);

        Assert.False(incremental.GetProperty("fullSync").GetBoolean());
        var types = incremental.GetProperty("types");
        Assert.Equal(1, types.GetProperty("Observation").GetProperty("new").GetInt32());
        Assert.Equal(1, types.GetProperty("Condition").GetProperty("changed").GetInt32());
        Assert.True(full.GetProperty("fullSync").GetBoolean());
        Assert.Equal(1, full.GetProperty("types").GetProperty("Immunization").GetProperty("deleted").GetInt32());
        await using var check = Database.CreateContext();
        Assert.NotNull((await check.SourceResources.SingleAsync(r => r.Id == immunization.Id, TestContext.Current.CancellationToken)).DeletedAt);
        Assert.Contains("Reviewed at follow-up", (await check.SourceResources.SingleAsync(r => r.Id == condition.Id, TestContext.Current.CancellationToken)).Resource!, StringComparison.Ordinal);

        // A resource marked deleted that the provider serves again exactly as stored comes back with the next full sync.
        await check.SourceResources.Where(r => r.Id == condition.Id)
            .ExecuteUpdateAsync(set => set.SetProperty(r => r.DeletedAt, DateTimeOffset.UtcNow), TestContext.Current.CancellationToken);
        var again = await FullSyncAsync(connectionId);
        Assert.Equal((1, 0), (again.GetProperty("types").GetProperty("Condition").GetProperty("changed").GetInt32(), again.GetProperty("types").GetProperty("Condition").GetProperty("new").GetInt32()));
        await using var back = Database.CreateContext();
        Assert.Null((await back.SourceResources.SingleAsync(r => r.Id == condition.Id, TestContext.Current.CancellationToken)).DeletedAt);
    }

    [Fact]
    public async Task An_expired_next_link_restarts_its_search_and_every_resource_is_still_stored_once()
    {
        var login = Sandbox.Generated("nextgen", "R4", 3);
        // Slow pages of ten, so that the links can expire while the Observation search is under way.
        await Sandbox.Server.InjectFaultAsync(new FaultSpec("nextgen", "latency") { PatientId = login.PatientId, LatencyMs = 100 });
        var (_, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-nextgen-r4", login);
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90)))
        {
            while (await ObservationsAsync(connectionId) < 20)
            {
                await Task.Delay(20, timeout.Token);
            }
        }

        await Sandbox.Server.InjectFaultAsync(new FaultSpec("nextgen", "expire-links") { PatientId = login.PatientId });
        var run = await Tenant.WaitForRunAsync(connectionId);
        await Sandbox.Server.ClearFaultsAsync("nextgen", login.PatientId);

        Assert.Equal("succeeded", run.GetProperty("status").GetString());
        var observations = run.GetProperty("types").GetProperty("Observation");
        var truth = (await Sandbox.Server.OverlapAsync(login.PersonId)).Single().Facts.SelectMany(f => f.Resources)
            .Count(r => r.Persona == "nextgen" && r.FhirVersion == "R4" && r.ResourceType == "Observation");
        Assert.Equal(truth, await ObservationsAsync(connectionId));
        // The restart read some pages twice: more pages and fetches than the search has, each resource stored once.
        Assert.True(observations.GetProperty("fetched").GetInt32() > truth, observations.ToString());
        Assert.Equal(truth, observations.GetProperty("new").GetInt32());
    }

    [Fact]
    public async Task A_slow_provider_is_searched_for_several_types_at_once_up_to_the_limit_and_loses_nothing()
    {
        // A provider of its own (persona parallel, which no other test calls): its slowness and its count of requests at
        // once are this test's alone.
        await using (var scope = Api.Services.CreateAsyncScope())
        {
            var directory = scope.ServiceProvider.GetRequiredService<Aggregator.Infrastructure.Providers.ProviderAdministration>();
            var provider = await directory.UpsertAsync(
                new Aggregator.Infrastructure.Providers.ProviderEntry("parallel-r4", "Parallel searches", "Parallel", Aggregator.Domain.Providers.FhirVersion.R4, new Uri(Sandbox.Root, "parallel/fhir/r4/").AbsoluteUri),
                "test", TestContext.Current.CancellationToken);
            await directory.SetClientAsync(provider, null, "parallel-public-app", Aggregator.Domain.Providers.ClientAuthenticationMethod.None, null, null, null, TestContext.Current.CancellationToken);
            await directory.SaveAsync(TestContext.Current.CancellationToken);
        }

        var login = Sandbox.Login("parallel", "R4");
        // Slow pages of ten: each search waits on the provider long enough for the others to be under way beside it.
        await Sandbox.Server.InjectFaultAsync(new FaultSpec("parallel", "latency") { PatientId = login.PatientId, LatencyMs = 150 });
        var (_, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "parallel-r4", login);
        var first = await Tenant.WaitForRunAsync(connectionId);
        var atOnce = await Sandbox.Server.RequestCountsAsync("parallel", login.PatientId);

        // The same searches one at a time, as a full sync: what the concurrent run stored is exactly what they find.
        var options = Api.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Aggregator.Infrastructure.Sync.SyncOptions>>().Value;
        var limit = options.MaxRequestsPerConnection;
        await Sandbox.Server.ResetRequestCountsAsync("parallel", login.PatientId);
        options.MaxRequestsPerConnection = 1;
        JsonElement again;
        try
        {
            again = await FullSyncAsync(connectionId);
        }
        finally
        {
            options.MaxRequestsPerConnection = limit;
        }

        var oneByOne = await Sandbox.Server.RequestCountsAsync("parallel", login.PatientId);
        await Sandbox.Server.ClearFaultsAsync("parallel", login.PatientId);

        Assert.Equal(4, limit);
        Assert.Equal(("succeeded", "succeeded"), (first.GetProperty("status").GetString(), again.GetProperty("status").GetString()));
        Assert.Equal(4, atOnce.FhirRequestsAtOnce);
        Assert.Equal(1, oneByOne.FhirRequestsAtOnce);
        int Sum(JsonElement run, string field) => run.GetProperty("types").EnumerateObject().Sum(t => t.Value.GetProperty(field).GetInt32());
        Assert.Equal((0, 0, 0), (Sum(again, "new"), Sum(again, "changed"), Sum(again, "deleted")));
        // Every type the searches found again, found whole the first time (referenced reads are not repeated for what is stored).
        var searched = again.GetProperty("types").EnumerateObject().Where(t => t.Value.GetProperty("unchanged").GetInt32() > 0).ToList();
        Assert.True(searched.Count > 5, again.ToString());
        Assert.All(searched, t => Assert.Equal(t.Value.GetProperty("unchanged").GetInt32(), first.GetProperty("types").GetProperty(t.Name).GetProperty("new").GetInt32()));
        Assert.True(first.GetProperty("types").GetProperty("Observation").GetProperty("pages").GetInt32() > 3, first.ToString());
    }

    private async Task<int> ObservationsAsync(Guid connectionId)
    {
        await using var db = Database.CreateContext();
        return await db.SourceResources.CountAsync(r => r.ConnectionId == connectionId && r.ResourceType == "Observation");
    }

    private async Task<System.Text.Json.JsonElement> FullSyncAsync(Guid connectionId)
    {
        var response = await Tenant.PostAsync(new Uri($"/v1/connections/{connectionId}/sync?full=true", UriKind.Relative), null);
        var runId = (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<System.Text.Json.JsonElement>(response.Content)).GetProperty("syncRunId").GetGuid();
        return await Tenant.WaitForRunAsync(connectionId, runId);
    }

    private async Task<int> StoredCountAsync(Guid connectionId)
    {
        await using var db = Database.CreateContext();
        return await db.SourceResources.CountAsync(r => r.ConnectionId == connectionId && r.DeletedAt == null);
    }
}
