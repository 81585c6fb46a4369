using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using Aggregator.Domain.Sync;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Sync;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Aggregator.Benchmarks;

/// <summary>
/// One very large patient, end to end with the processes as deployed: the sandbox's first generated person with
/// <c>--readings</c> home-monitoring Observations at primary care (nextgen R4), and the same person's small record at the
/// specialty clinic (epic R4) as the yardstick. One Worker syncs each (first sync, then a full re-sync with nothing
/// changed) and the Api exports each; the peak working set (peak resident memory, <c>VmHWM</c>, reset before each step
/// through <c>/proc/{pid}/clear_refs</c>) of the process doing the work is read after every step.
/// </summary>
internal static class LargePatientBench
{
    private const int Megabyte = 1024 * 1024;

    /// <summary><c>large [--readings 50000] [--worker-heap-limit-mb 0]</c>.</summary>
    public static async Task<int> CommandAsync(string repo, string[] args)
    {
        var readings = Arguments.Int(args, "--readings", 50_000);
        // A cap on the Worker's GC heap (DOTNET_GCHeapHardLimit), as a memory-limited deployment sets; 0 leaves it the machine.
        var heapLimit = Arguments.Int(args, "--worker-heap-limit-mb", 0);
        if (BenchSystem.Missing(repo) is { } missing)
        {
            Console.Error.WriteLine($"error: {missing}");
            return 1;
        }

        if (!OperatingSystem.IsLinux())
        {
            Console.Error.WriteLine("error: the memory figures are read from /proc; run this on Linux.");
            return 1;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Aggregator large-patient benchmark — {Environment.ProcessorCount} cores, .NET {Environment.Version}, {readings:N0} home readings, Worker GC heap {(heapLimit > 0 ? $"capped at {heapLimit:N0} MB" : "uncapped")}"));
        await using var database = await BenchDatabase.StartAsync(repo);
        using var keyRing = new KeyRingCertificate();
        await using var system = await BenchSystem.StartAsync(repo, database.ConnectionString, keyRing.Path, new()
        {
            ["Sandbox__Generator__People"] = "1",
            ["Sandbox__Generator__HomeReadings"] = readings.ToString(CultureInfo.InvariantCulture),
        });
        var logins = await system.GeneratedLoginsAsync();
        var small = logins.Single(l => l.Persona == "epic" && l.FhirVersion == "R4");
        var large = logins.Single(l => l.Persona == "nextgen" && l.FhirVersion == "R4");

        var workerSettings = new Dictionary<string, string>
        {
            ["Worker__WorkerCount"] = "2",
            ["Worker__PollInterval"] = "00:00:01",
            ["Sync__FullSyncEvery"] = "00:00:00",
        };
        if (heapLimit > 0)
        {
            workerSettings["DOTNET_GCHeapHardLimit"] = (heapLimit * (long)Megabyte).ToString("x", CultureInfo.InvariantCulture);
        }

        var worker = system.StartWorker(workerSettings);
        await worker.WaitReadyAsync();
        await Task.Delay(TimeSpan.FromSeconds(3));
        var idle = Memory.Of(worker.Id);
        var table = new List<Row> { new("Worker, idle", $"{Mb(idle.Resident)} resident", "", "") };

        // Each record's first sync, then a full re-sync of it with nothing changed at the provider.
        var connections = new Dictionary<string, (Guid Patient, Guid Connection)>();
        foreach (var (name, login) in new[] { ("small", small), ("large", large) })
        {
            Memory.ResetPeak(worker.Id);
            var since = DateTimeOffset.UtcNow;
            var made = (await system.ConnectAsync([login], name))[0];
            connections[name] = made;
            var first = Single(await system.WaitForRunsAsync([made.Connection], since));
            table.Add(SyncRow($"First sync, {name} record", first, Memory.Of(worker.Id)));

            Memory.ResetPeak(worker.Id);
            since = DateTimeOffset.UtcNow;
            await using (var db = AggregatorDbContext.ForSystem(system.Services.GetRequiredService<NpgsqlDataSource>()))
            {
                await db.Connections.Where(c => c.Id == made.Connection).ExecuteUpdateAsync(set => set.SetProperty(c => c.NextSyncAt, since));
            }

            new RecurringJobManager(system.Services.GetRequiredService<JobStorage>()).TriggerJob(SyncDispatcher.RecurringJobId);
            var again = Single(await system.WaitForRunsAsync([made.Connection], since));
            table.Add(SyncRow($"Re-sync, nothing changed, {name} record", again, Memory.Of(worker.Id), first));
        }

        await worker.StopAsync();

        // Reads and exports by the Api, each record in turn.
        using var api = system.ApiClient(TimeSpan.FromMinutes(10));
        foreach (var (name, (patient, _)) in connections)
        {
            foreach (var (what, path, accept) in new[]
            {
                ("record summary", $"v1/patients/{patient}/record", "application/json"),
                ("first vitals page", $"v1/patients/{patient}/record/vitals", "application/json"),
                ("export, Bundle", $"v1/patients/{patient}/export", "application/fhir+json"),
                ("export, NDJSON", $"v1/patients/{patient}/export", "application/fhir+ndjson"),
                ("export with sources, Bundle", $"v1/patients/{patient}/export?include=sources", "application/fhir+json"),
            })
            {
                var before = Memory.Of(system.Api.Id);
                Memory.ResetPeak(system.Api.Id);
                var (bytes, seconds) = await ReadAsync(api, path, accept);
                var after = Memory.Of(system.Api.Id);
                table.Add(new Row($"Api: {what}, {name} record", string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)Megabyte:0.0} MB in {seconds * 1000:N0} ms"),
                    $"{Mb(after.Peak)} peak", $"+{Mb(Math.Max(0, after.Peak - before.Resident))} over the {Mb(before.Resident)} resident before"));
            }
        }

        Console.WriteLine();
        Console.WriteLine("| step | figure | peak working set | memory |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var row in table)
        {
            Console.WriteLine($"| {row.What} | {row.Figure} | {row.Peak} | {row.Memory} |");
        }

        return 0;
    }

    private static SyncRun Single(List<SyncRun> runs)
    {
        var run = runs.Single();
        if (run.Status != SyncRunStatus.Succeeded)
        {
            throw new InvalidOperationException($"The sync run ended {run.Status}: {run.Error}");
        }

        return run;
    }

    private static Row SyncRow(string what, SyncRun run, Memory memory, SyncRun? first = null)
    {
        var resources = StoredSyncCounts.ResourcesSoFar(StoredSyncCounts.Parse(run.TypeCounts));
        var seconds = (run.DurationMs ?? 0) / 1000.0;
        var figure = string.Create(CultureInfo.InvariantCulture, $"{resources:N0} resources, {run.Pages:N0} pages in {seconds:0.0} s ({resources / Math.Max(seconds, 0.001):N0}/s)");
        var ratio = first is null ? "" : string.Create(CultureInfo.InvariantCulture, $"{(first.DurationMs ?? 0) / (double)Math.Max(1, run.DurationMs ?? 1):0.0}× faster than the first");
        return new Row(what, figure + (ratio.Length > 0 ? $"; {ratio}" : ""), $"{Mb(memory.Peak)} peak", "");
    }

    /// <summary>Reads the whole answer as a client would, without keeping it; its size and time.</summary>
    private static async Task<(long Bytes, double Seconds)> ReadAsync(HttpClient api, string path, string accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        var stopwatch = Stopwatch.StartNew();
        using var response = await api.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            total += read;
        }

        return (total, stopwatch.Elapsed.TotalSeconds);
    }

    private static string Mb(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)Megabyte:N0} MB");

    private sealed record Row(string What, string Figure, string Peak, string Memory);

    /// <summary>A process's resident memory now and its peak since the last reset, from <c>/proc/{pid}/status</c>.</summary>
    private sealed record Memory(long Resident, long Peak)
    {
        public static Memory Of(int pid)
        {
            long Field(string[] lines, string name) =>
                long.Parse(lines.Single(l => l.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            var status = File.ReadAllLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status");
            return new Memory(Field(status, "VmRSS"), Field(status, "VmHWM"));
        }

        /// <summary>Sets the peak back to the present resident memory (<c>5</c> to <c>clear_refs</c>; the process's owner or root).</summary>
        public static void ResetPeak(int pid) => File.WriteAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/clear_refs", "5");
    }
}
