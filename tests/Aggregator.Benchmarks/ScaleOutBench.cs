using System.Diagnostics;
using System.Globalization;
using Aggregator.Domain.Sync;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Sync;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Aggregator.Benchmarks;

/// <summary>
/// Syncs per minute with 1, 2, 3... Worker processes on one database: the sandbox (generated people at its four FHIR
/// bases) and the Api run as processes too, every connection is made through the real SMART flow, and each round makes
/// all of them due at once and sets off the dispatcher. Every sync is a full one (each resource read again and compared
/// with what is stored; the provider's data does not change, so little is written). Beside the rounds, in the same run,
/// a ceiling: the same syncs run by <see cref="SyncEngine"/> in this one process, as many at once as the largest round
/// runs, with no Hangfire and no other process than the sandbox and PostgreSQL.
/// </summary>
internal sealed class ScaleOutBench
{
    private readonly BenchSystem _system;
    private readonly int _threads;
    private List<Guid> _connections = [];

    private ScaleOutBench(BenchSystem system, int threads)
    {
        _system = system;
        _threads = threads;
    }

    private IServiceProvider Services => _system.Services;

    /// <summary><c>scaleout [--connections 300] [--workers 1,2,3] [--worker-count 4] [--passes 1]</c>.</summary>
    public static async Task<int> CommandAsync(string repo, string[] args)
    {
        var connections = Arguments.Int(args, "--connections", 300);
        var workerCounts = Arguments.Ints(args, "--workers", [1, 2, 3]);
        var threads = Arguments.Int(args, "--worker-count", 4);
        var passes = Arguments.Int(args, "--passes", 1);
        if (BenchSystem.Missing(repo) is { } missing)
        {
            Console.Error.WriteLine($"error: {missing}");
            return 1;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Aggregator scale-out benchmark — {Environment.ProcessorCount} cores, .NET {Environment.Version}, {connections} connections, Workers {string.Join(",", workerCounts)} with {threads} jobs each, {passes} pass(es)"));
        await using var database = await BenchDatabase.StartAsync(repo);
        using var keyRing = new KeyRingCertificate();
        var stopwatch = Stopwatch.StartNew();
        // Four FHIR bases serve every generated person (nextgen R4 and DSTU2, epic, cerner).
        await using var system = await BenchSystem.StartAsync(repo, database.ConnectionString, keyRing.Path, new()
        {
            ["Sandbox__Generator__People"] = ((connections + 3) / 4).ToString(CultureInfo.InvariantCulture),
        }, new Dictionary<string, string?>
        {
            // The Workers' sync settings, for the ceiling's in-process syncs.
            ["Sync:FullSyncEvery"] = "00:00:00",
            ["Sync:MaxConcurrentPerProvider"] = "100000",
        });
        var bench = new ScaleOutBench(system, threads);
        await bench.StartAsync(connections);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Sandbox, Api and database ready, {bench._connections.Count} connections made through the SMART flow and first-synced in {stopwatch.Elapsed.TotalSeconds:0} s ({database.Description})"));

        // Each pass measures the ceiling, then each number of Workers; with several passes the table shows the medians, so
        // that the machine's other load (which comes and goes) weighs less on any one figure.
        var ceilingJobs = workerCounts.Max() * threads;
        const string Ceiling = "ceiling: this process, no Hangfire";
        var rows = new List<(string What, int Jobs, List<Round> Rounds)> { (Ceiling, ceilingJobs, []) };
        rows.AddRange(workerCounts.Select(w => ($"{w} Worker{(w == 1 ? "" : "s")}", w * threads, new List<Round>())));
        for (var pass = 1; pass <= passes; pass++)
        {
            foreach (var (what, jobs, rounds) in rows)
            {
                rounds.Add(what == Ceiling ? await bench.CeilingRoundAsync(jobs) : await bench.WorkersRoundAsync(jobs / threads));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Pass {pass}, {what} ({jobs} at once): {rounds[^1].Syncs} syncs in {rounds[^1].Seconds:0.0} s = {rounds[^1].PerMinute:N0} syncs/min; one sync {rounds[^1].MedianMs:N0} ms (median), {rounds[^1].Pages:0.0} pages{(rounds[^1].Failed > 0 ? $"; {rounds[^1].Failed} failed" : "")}"));
            }
        }

        static double Median(IEnumerable<double> values) => Arguments.Spread([.. values]).Median;
        var ceiling = Median(rows[0].Rounds.Select(r => r.PerMinute));
        Console.WriteLine();
        Console.WriteLine(passes == 1 ? "| run | jobs at once | syncs/min | of ceiling | one sync |" : $"| run (median of {passes} passes) | jobs at once | syncs/min | of ceiling | one sync |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var (what, jobs, rounds) in rows)
        {
            var perMinute = Median(rounds.Select(r => r.PerMinute));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {what} | {jobs} | {perMinute:N0} | {100 * perMinute / ceiling:0}% | {Median(rounds.Select(r => r.MedianMs)):N0} ms |"));
        }

        return rows.All(r => r.Rounds.All(round => round.Failed == 0)) ? 0 : 2;
    }

    private async Task StartAsync(int connections)
    {
        var logins = (await _system.GeneratedLoginsAsync()).Take(connections).ToList();
        if (logins.Count < connections)
        {
            throw new InvalidOperationException($"The sandbox serves {logins.Count} generated logins, fewer than {connections}.");
        }

        _connections = [.. (await _system.ConnectAsync(logins, "bench")).Select(c => c.Connection)];

        // The first syncs, by two Workers, before anything is measured.
        var setup = Enumerable.Range(0, 2).Select(_ => StartWorker()).ToList();
        await Task.WhenAll(setup.Select(w => w.WaitReadyAsync()));
        await WaitForRunsAsync(DateTimeOffset.MinValue);
        await Task.WhenAll(setup.Select(w => w.StopAsync()));
    }

    /// <summary>Every connection due at once, <paramref name="workers"/> Workers started, the dispatcher set off; until every run has ended.</summary>
    private async Task<Round> WorkersRoundAsync(int workers)
    {
        var since = await MakeDueAsync();
        var started = Enumerable.Range(0, workers).Select(_ => StartWorker()).ToList();
        await Task.WhenAll(started.Select(w => w.WaitReadyAsync()));
        await WaitRegisteredAsync(started);
        new RecurringJobManager(Services.GetRequiredService<JobStorage>()).TriggerJob(SyncDispatcher.RecurringJobId);
        var round = await WaitForRunsAsync(since);
        await Task.WhenAll(started.Select(w => w.StopAsync()));
        return round;
    }

    /// <summary>The same syncs in this process: a scheduled full run per connection, <paramref name="parallel"/> run by <see cref="SyncEngine"/> at once.</summary>
    private async Task<Round> CeilingRoundAsync(int parallel)
    {
        var since = DateTimeOffset.UtcNow;
        var runs = _connections.Select(c => new SyncRun
        {
            Id = Guid.CreateVersion7(), TenantId = _system.TenantId, ConnectionId = c, Status = SyncRunStatus.Queued, Trigger = SyncTrigger.Scheduled,
            FullSync = true, QueuedAt = DateTimeOffset.UtcNow,
        }).ToList();
        await using (var db = AggregatorDbContext.ForSystem(Services.GetRequiredService<NpgsqlDataSource>()))
        {
            db.SyncRuns.AddRange(runs);
            await db.SaveChangesAsync();
        }

        await Parallel.ForEachAsync(runs, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (run, ct) =>
        {
            await using var scope = Services.CreateAsyncScope();
            var outcome = await scope.ServiceProvider.GetRequiredService<SyncEngine>().RunAsync(run.Id, ct);
            if (outcome != SyncStart.Ran)
            {
                throw new InvalidOperationException($"Sync run {run.Id} did not run: {outcome}");
            }
        });
        return await WaitForRunsAsync(since);
    }

    /// <summary>Makes every connection due now; returns the moment before, after which this round's runs are queued.</summary>
    private async Task<DateTimeOffset> MakeDueAsync()
    {
        await using var db = AggregatorDbContext.ForSystem(Services.GetRequiredService<NpgsqlDataSource>());
        var since = DateTimeOffset.UtcNow;
        await db.Connections.Where(c => c.TenantId == _system.TenantId).ExecuteUpdateAsync(set => set.SetProperty(c => c.NextSyncAt, since));
        return since;
    }

    /// <summary>
    /// Waits until every connection has a run queued after <paramref name="since"/> and all of them have ended; the
    /// round lasts from the first run's start to the last one's end (the database's clock, as the runs record them).
    /// </summary>
    private async Task<Round> WaitForRunsAsync(DateTimeOffset since)
    {
        var ended = await _system.WaitForRunsAsync(_connections, since);
        var first = ended.Min(r => r.StartedAt ?? r.FinishedAt!.Value);
        var last = ended.Max(r => r.FinishedAt!.Value);
        var (median, _) = Arguments.Spread([.. ended.Select(r => (double)(r.DurationMs ?? 0))]);
        return new Round(ended.Count, ended.Count(r => r.Status == SyncRunStatus.Failed), (last - first).TotalSeconds, median, ended.Average(r => r.Pages));
    }

    /// <summary>Waits until each Worker's Hangfire server is listed (its id carries the process id).</summary>
    private async Task WaitRegisteredAsync(IReadOnlyList<ChildProcess> workers)
    {
        var dataSource = Services.GetRequiredService<NpgsqlDataSource>();
        for (var i = 0; i < 240; i++)
        {
            await using var command = dataSource.CreateCommand("SELECT id FROM hangfire.server");
            await using var reader = await command.ExecuteReaderAsync();
            var servers = new List<string>();
            while (await reader.ReadAsync())
            {
                servers.Add(reader.GetString(0));
            }

            if (workers.All(w => servers.Any(s => s.Contains(string.Create(CultureInfo.InvariantCulture, $":{w.Id}:"), StringComparison.Ordinal))))
            {
                return;
            }

            await Task.Delay(250);
        }

        throw new InvalidOperationException("The Workers' Hangfire servers did not register within a minute.");
    }

    /// <summary>A Worker as deployed, syncing fully each time with no per-provider cap.</summary>
    private ChildProcess StartWorker() => _system.StartWorker(new()
    {
        ["Worker__WorkerCount"] = _threads.ToString(CultureInfo.InvariantCulture),
        // Idle job threads look for work every second (5 s by default) so that a round's start is not a poll away.
        ["Worker__PollInterval"] = "00:00:01",
        ["Sync__FullSyncEvery"] = "00:00:00",
        // The benchmark measures our side: a provider's concurrency cap (4 by default) would postpone syncs on purpose.
        ["Sync__MaxConcurrentPerProvider"] = "100000",
    });

    /// <summary>A round's syncs, how long from the first start to the last end, and each sync's median time and mean pages.</summary>
    private sealed record Round(int Syncs, int Failed, double Seconds, double MedianMs, double Pages)
    {
        public double PerMinute => Seconds > 0 ? Syncs / Seconds * 60 : 0;
    }
}
