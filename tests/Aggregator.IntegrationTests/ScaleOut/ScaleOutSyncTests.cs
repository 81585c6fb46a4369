using Aggregator.Domain.Sync;
using Aggregator.IntegrationTests.Infrastructure;
using Aggregator.Sandbox.Tests.Hosting;

namespace Aggregator.IntegrationTests.ScaleOut;

/// <summary>
/// Two Api and two Worker processes on one PostgreSQL share the syncs of twenty connections: each due connection is
/// synced once, by one of them, and a Worker killed mid-sync leaves its run to the other, which finishes it.
/// </summary>
public sealed class ScaleOutSyncTests(PostgresServer server)
{
    /// <summary>Five generated people at each of the sandbox's four FHIR bases (nextgen R4 and DSTU2, epic, cerner).</summary>
    private const int People = 5;

    [Fact]
    public async Task Two_workers_sync_each_due_connection_exactly_once_and_a_worker_killed_mid_sync_leaves_its_run_to_the_other_with_nothing_lost_or_doubled()
    {
        await using var system = await ScaleOutSystem.StartAsync(server, apis: 2, workers: 2, people: People);
        var logins = system.Logins;
        Assert.Equal(4 * People, logins.Count);

        // Twenty connections, each begun at one Api and finished (callback and confirmation) at the other; the first
        // alone, so that one Api makes the key ring everyone then shares.
        async Task<(SandboxLogin Login, Guid PatientId, Guid ConnectionId)> ConnectAsync(int i)
        {
            var (patientId, connectionId) = await system.ConnectAsync($"person-{i}", logins[i], startVia: i % 2, callbackVia: (i + 1) % 2);
            return (logins[i], patientId, connectionId);
        }

        List<(SandboxLogin Login, Guid PatientId, Guid ConnectionId)> connections = [await ConnectAsync(0)];
        foreach (var batch in Enumerable.Range(1, logins.Count - 1).Chunk(4))
        {
            connections.AddRange(await Task.WhenAll(batch.Select(ConnectAsync)));
        }

        var ids = connections.Select(c => c.ConnectionId).ToList();
        var initial = await system.WaitForRunsAsync(ids, runs: 1);
        Assert.All(ids, id => Assert.Single(initial, r => r.ConnectionId == id));
        Assert.All(initial, r => Assert.Equal((SyncTrigger.Initial, SyncRunStatus.Succeeded), (r.Trigger, r.Status)));

        // All twenty fall due at once; the dispatcher is set off twice, so that two dispatches compete for them.
        await system.MakeDueAsync(ids);
        var dispatches = new[] { system.TriggerDispatch(), system.TriggerDispatch() };
        foreach (var job in dispatches)
        {
            await system.WaitForJobAsync(job);
        }

        var runs = await system.WaitForRunsAsync(ids, runs: 2);
        Assert.All(ids, id => Assert.Equal(2, runs.Count(r => r.ConnectionId == id)));
        var scheduled = runs.Where(r => r.Trigger == SyncTrigger.Scheduled).ToList();
        Assert.Equal(ids.Count, scheduled.Count);
        Assert.All(scheduled, r => Assert.Equal(SyncRunStatus.Succeeded, r.Status));

        // In Hangfire: one job per run, fetched once (one Processing state), succeeded; and both Workers took some.
        var states = await system.SyncJobsFinishedAsync();
        var jobs = states.GroupBy(s => s.JobId).ToList();
        Assert.Equal(runs.Select(r => r.Id).Order(), jobs.Select(j => j.First().RunId).Order());
        Assert.All(jobs, job =>
        {
            Assert.Single(job, s => s.State == "Processing");
            Assert.Equal("Succeeded", job.Last().State);
        });
        var servers = states.Where(s => s.State == "Processing").Select(s => s.ServerId!).ToList();
        Assert.All(system.Workers, worker => Assert.Contains(servers, s => ScaleOutSystem.RunsIn(s, worker)));

        // A slow provider keeps the next sync going for a while: the patient of the first epic connection, connected once
        // more as another patient of the tenant. Its Worker is killed (SIGKILL) while the sync is under way.
        var reference = connections.First(c => c.Login.Persona == "epic");
        await system.Sandbox.InjectFaultAsync(new FaultSpec("epic", "latency") { PatientId = reference.Login.PatientId, LatencyMs = 600 });
        var (victimPatient, victim) = await system.ConnectAsync("victim", reference.Login, startVia: 1, callbackVia: 0);
        var expected = await system.StoredAsync(reference.ConnectionId);
        SyncJobState? processing = null;
        await ScaleOutSystem.WaitUntilAsync(async () =>
        {
            var run = (await system.RunsAsync([victim])).Single();
            processing = (await system.SyncJobStatesAsync()).LastOrDefault(s => s.RunId == run.Id);
            return run.Status == SyncRunStatus.Running && processing?.State == "Processing" && (await system.StoredAsync(victim)).Count >= expected.Count / 4;
        }, "The victim's sync is under way with a quarter of its resources stored");
        var doomed = system.Workers.Single(w => ScaleOutSystem.RunsIn(processing!.ServerId!, w));
        var survivor = system.Workers.Single(w => w != doomed);
        await doomed.KillAsync();

        var atKill = (await system.RunsAsync([victim])).Single();
        var storedAtKill = (await system.StoredAsync(victim)).Count;
        await system.Sandbox.ClearFaultsAsync("epic", reference.Login.PatientId);
        var finished = (await system.WaitForRunsAsync([victim], runs: 1)).Single();

        Assert.Equal(SyncRunStatus.Running, atKill.Status);
        Assert.InRange(storedAtKill, expected.Count / 4, expected.Count - 1);
        Assert.Equal((atKill.Id, SyncRunStatus.Succeeded), (finished.Id, finished.Status));
        // The same job, fetched again by the survivor once the dead server's hold lapsed.
        var history = (await system.SyncJobsFinishedAsync()).Where(s => s.RunId == finished.Id).ToList();
        Assert.Single(history.Select(s => s.JobId).Distinct());
        var fetchedBy = history.Where(s => s.State == "Processing").Select(s => s.ServerId!).ToList();
        Assert.Equal(2, fetchedBy.Count);
        Assert.True(ScaleOutSystem.RunsIn(fetchedBy[0], doomed), fetchedBy[0]);
        Assert.True(ScaleOutSystem.RunsIn(fetchedBy[1], survivor), fetchedBy[1]);
        Assert.Equal("Succeeded", history[^1].State);

        // Nothing lost, nothing doubled: the same resources as the uninterrupted connection to the same provider
        // patient, and the same record items, each naming the same sources.
        Assert.Equal(expected, await system.StoredAsync(victim));
        var tenant = system.Client(0);
        Assert.Equal(await RecordAsync(tenant, reference.PatientId), await RecordAsync(tenant, victimPatient));
    }

    /// <summary>A patient's record items as the sources each names, sorted (item ids differ between patients).</summary>
    private static async Task<List<string>> RecordAsync(HttpClient tenant, Guid patientId) =>
        [.. (await tenant.AllItemsAsync(patientId))
            .Select(i => string.Join(' ', i.GetProperty("sources").EnumerateArray()
                .Select(s => $"{s.GetProperty("resourceType").GetString()}/{s.GetProperty("resourceId").GetString()}").Order(StringComparer.Ordinal)))
            .Order(StringComparer.Ordinal)];
}
