using System.Text.Json;
using Aggregator.Domain.Sync;
using Aggregator.Infrastructure.Sync;
using Aggregator.Infrastructure.Tenants;
using Aggregator.IntegrationTests.Infrastructure;
using Aggregator.Sandbox.Tests.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.IntegrationTests.Sync;

/// <summary>A Worker that stops mid-sync, and documents fetched beside the resources that point to them.</summary>
public sealed class SyncRecoveryTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox)
{
    [Fact]
    public async Task A_worker_stopped_mid_sync_leaves_the_run_to_the_next_worker_which_completes_it_with_nothing_lost_or_doubled()
    {
        var login = Sandbox.Generated("cerner", "R4", 5);
        await Sandbox.Server.InjectFaultAsync(new FaultSpec("cerner", "latency") { PatientId = login.PatientId, LatencyMs = 150 });
        var (_, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-cerner-r4", login);

        await using (var first = new WorkerFactory(Database.ConnectionString))
        {
            _ = first.Services;
            await WaitUntilAsync(async () => (await LatestRunAsync(connectionId)).GetProperty("status").GetString() == "running" && await StoredAsync(connectionId) > 20);
        }

        var interrupted = await LatestRunAsync(connectionId);
        var storedWhenStopped = await StoredAsync(connectionId);
        await Sandbox.Server.ClearFaultsAsync("cerner", login.PatientId);
        await using var second = new WorkerFactory(Database.ConnectionString);
        _ = second.Services;
        var finished = await Tenant.WaitForRunAsync(connectionId, interrupted.GetProperty("id").GetGuid());

        Assert.Equal("running", interrupted.GetProperty("status").GetString());
        Assert.Equal("succeeded", finished.GetProperty("status").GetString());
        Assert.True(await StoredAsync(connectionId) > storedWhenStopped);
        await using var db = Database.CreateContext();
        var keys = await db.SourceResources.Where(r => r.ConnectionId == connectionId).Select(r => r.ResourceType + "/" + r.ResourceId).ToListAsync(TestContext.Current.CancellationToken);
        Assert.Equal(keys.Count, keys.Distinct().Count());
        // Compared with what the provider holds: every fact of this person at this persona is stored.
        var truth = (await Sandbox.Server.OverlapAsync(login.PersonId)).Single().Facts
            .SelectMany(f => f.Resources).Where(r => r.Persona == "cerner").Select(r => r.ResourceType + "/" + r.ResourceId).ToHashSet();
        Assert.Subset(keys.ToHashSet(), truth);
    }

    [Fact]
    public async Task Two_workers_told_to_sync_one_connection_at_once_make_exactly_one_refresh_call()
    {
        var login = Sandbox.Generated("epic", "R4", 5);
        var (_, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-epic-r4", login);
        Guid second;
        await using (var scope = Api.Services.CreateAsyncScope())
        {
            scope.ServiceProvider.GetRequiredService<CurrentTenant>().Set(TenantId);
            second = await scope.ServiceProvider.GetRequiredService<SyncScheduler>().EnqueueAsync(connectionId, SyncTrigger.Manual, TestContext.Current.CancellationToken);
        }

        await Sandbox.Server.InjectFaultAsync(new FaultSpec("epic", "expire-tokens") { PatientId = login.PatientId });
        await Sandbox.Server.ResetRequestCountsAsync("epic", login.PatientId);
        await using var workerA = new WorkerFactory(Database.ConnectionString);
        await using var workerB = new WorkerFactory(Database.ConnectionString);
        _ = workerA.Services;
        _ = workerB.Services;

        var runs = (await Tenant.GetJsonAsync($"/v1/connections/{connectionId}/sync-runs")).GetProperty("items").EnumerateArray().Select(r => r.GetProperty("id").GetGuid()).ToList();
        foreach (var run in runs)
        {
            Assert.Equal("succeeded", (await Tenant.WaitForRunAsync(connectionId, run)).GetProperty("status").GetString());
        }

        Assert.Contains(second, runs);
        Assert.Equal(2, runs.Count);
        Assert.Equal(1, (await Sandbox.Server.RequestCountsAsync("epic", login.PatientId)).RefreshRequests);
    }

    [Fact]
    public async Task Documents_behind_binary_urls_are_fetched_once_and_stored_beside_the_document()
    {
        // The specialist (Epic persona) serves its documents as Binary urls; primary care sends them inline.
        var login = Sandbox.Generated("epic", "R4", 2);
        var (_, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-epic-r4", login);
        await using (var worker = new WorkerFactory(Database.ConnectionString))
        {
            _ = worker.Services;
            Assert.Equal("succeeded", (await Tenant.WaitForRunAsync(connectionId)).GetProperty("status").GetString());
        }

        await using var db = Database.CreateContext();
        var documents = await db.SourceResources.Where(r => r.ConnectionId == connectionId && r.ResourceType == "DocumentReference").Select(r => r.Resource!).ToListAsync(TestContext.Current.CancellationToken);
        var binaryIds = documents.SelectMany(d => JsonDocument.Parse(d).RootElement.GetProperty("content").EnumerateArray())
            .Select(c => c.GetProperty("attachment"))
            .Where(a => a.TryGetProperty("url", out _))
            .Select(a => a.GetProperty("url").GetString()!.Split('/')[^1])
            .Distinct()
            .ToList();
        var binaries = await db.SourceResources.Where(r => r.ConnectionId == connectionId && r.ResourceType == "Binary").ToListAsync(TestContext.Current.CancellationToken);

        Assert.NotEmpty(binaryIds);
        Assert.Equal(binaryIds.Order(StringComparer.Ordinal), binaries.Select(b => b.ResourceId).Order(StringComparer.Ordinal));
        Assert.All(binaries, b => Assert.False(string.IsNullOrEmpty(JsonDocument.Parse(b.Resource!).RootElement.GetProperty("data").GetString())));
    }

    private async Task<JsonElement> LatestRunAsync(Guid connectionId) =>
        (await Tenant.GetJsonAsync($"/v1/connections/{connectionId}/sync-runs")).GetProperty("items")[0].Clone();

    private async Task<int> StoredAsync(Guid connectionId)
    {
        await using var db = Database.CreateContext();
        return await db.SourceResources.CountAsync(r => r.ConnectionId == connectionId);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while (!await condition())
        {
            Assert.False(timeout.IsCancellationRequested, "The condition did not come true in time.");
            await Task.Delay(100, CancellationToken.None);
        }
    }
}
