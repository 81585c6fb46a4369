using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Aggregator.Domain.Sync;
using Aggregator.Infrastructure.Observability;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Sync;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Aggregator.Benchmarks;

/// <summary>
/// Where one sync's time goes: the sandbox and the Api run as processes, generated people are connected through the
/// SMART flow, and each connection's first sync, then a full re-sync with nothing changed, runs one at a time in this
/// process by <see cref="SyncEngine"/>. The spans the sync makes anyway (HttpClient's to a provider's headers, ours for
/// reading its body and storing each page, Npgsql's for other commands) and the rebuild's duration metric are summed
/// per part; what no span covers is this process's own work (parsing, converting, hashing, deciding) and EF Core's
/// commands (the run's state, its progress, the rebuild's queries), which Npgsql does not trace here.
/// </summary>
internal static class SyncProfileBench
{
    /// <summary><c>profile [--people 3] [--latency 100]</c>.</summary>
    public static async Task<int> CommandAsync(string repo, string[] args)
    {
        var people = Arguments.Int(args, "--people", 3);
        var latency = Arguments.Int(args, "--latency", 100);
        if (BenchSystem.Missing(repo) is { } missing)
        {
            Console.Error.WriteLine($"error: {missing}");
            return 1;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Aggregator sync profile — {Environment.ProcessorCount} cores, .NET {Environment.Version}, {people} generated people at four FHIR bases"));
        await using var database = await BenchDatabase.StartAsync(repo);
        using var keyRing = new KeyRingCertificate();
        await using var system = await BenchSystem.StartAsync(repo, database.ConnectionString, keyRing.Path, new()
        {
            ["Sandbox__Generator__People"] = people.ToString(CultureInfo.InvariantCulture),
        }, new Dictionary<string, string?>
        {
            ["Sync:FullSyncEvery"] = "00:00:00",
            ["Sync:MaxConcurrentPerProvider"] = "100000",
        });
        var logins = await system.GeneratedLoginsAsync();
        var connections = await system.ConnectAsync(logins, "profile");
        using var parts = new Parts();
        // The parts are measured one request at a time, so that they add up to the whole; the concurrent searches come after.
        var options = system.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<SyncOptions>>().Value;
        var atOnce = options.MaxRequestsPerConnection;
        options.MaxRequestsPerConnection = 1;

        // The first connection warms this process up (JIT, pools, the capability cache); it is not counted.
        var warmUp = await RunAsync(system, connections[0].Connection, parts);
        parts.Reset();
        var first = new List<Profile>();
        foreach (var (_, connection) in connections.Skip(1))
        {
            first.Add(await RunAsync(system, connection, parts));
        }

        var again = new List<Profile>();
        foreach (var (_, connection) in connections.Skip(1))
        {
            again.Add(await RunAsync(system, connection, parts));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Warm-up sync: {warmUp.Resources} resources in {warmUp.Total.TotalMilliseconds:0} ms (not counted)"));
        Console.WriteLine();
        Console.WriteLine("| part | first syncs | re-syncs, nothing changed |");
        Console.WriteLine("|---|---|---|");
        Console.WriteLine(Row("syncs; resources each (median)", first, again, p => p.Resources, "0"));
        Console.WriteLine(Row("whole sync, ms (median)", first, again, p => p.Total.TotalMilliseconds, "0"));
        Console.WriteLine(Row("provider requests: count", first, again, p => p.Requests, "0"));
        Console.WriteLine(Row("provider requests, to their headers: ms", first, again, p => p.Http.TotalMilliseconds, "0"));
        Console.WriteLine(Row("reading the answers' bodies: ms", first, again, p => p.Bodies.TotalMilliseconds, "0"));
        Console.WriteLine(Row("storing pages (COPY into staging, upsert): ms", first, again, p => p.Storing.TotalMilliseconds, "0"));
        Console.WriteLine(Row("other database commands with a span: count", first, again, p => p.Commands, "0"));
        Console.WriteLine(Row("other database commands with a span: ms", first, again, p => p.Database.TotalMilliseconds, "0"));
        Console.WriteLine(Row("record rebuild: ms", first, again, p => p.Rebuild.TotalMilliseconds, "0"));
        Console.WriteLine(Row("the rest, which no span covers (this process's own work; EF Core's commands, which carry no span): ms", first, again, p => p.Rest.TotalMilliseconds, "0"));
        if (latency > 0)
        {
            await SlowProviderAsync(system, logins, connections, parts, options, latency, atOnce);
        }

        return 0;
    }

    /// <summary>
    /// A provider slower to answer, as real ones are (the sandbox adds <paramref name="latency"/> ms to every FHIR answer of
    /// these patients): the same full re-syncs with one request at a time, then with the searches of several types at once.
    /// </summary>
    private static async Task SlowProviderAsync(
        BenchSystem system, List<Aggregator.Sandbox.Demo.PortalLogin> logins, (Guid Patient, Guid Connection)[] connections, Parts parts, SyncOptions options, int latency, int atOnce)
    {
        using (var sandbox = new HttpClient { BaseAddress = system.Sandbox.Url })
        {
            // Once per persona and patient: a patient at two FHIR versions of one persona is one patient there, and latency faults add up.
            foreach (var login in logins.DistinctBy(l => (l.Persona, l.PatientId)))
            {
                using var injected = await sandbox.PostAsJsonAsync(new Uri("_test/faults", UriKind.Relative),
                    new { persona = login.Persona, patientId = login.PatientId, kind = "latency", latencyMs = latency });
                injected.EnsureSuccessStatusCode();
            }
        }

        var byLimit = new List<(int Limit, List<Profile> Runs)>();
        foreach (var limit in new[] { 1, atOnce }.Distinct())
        {
            options.MaxRequestsPerConnection = limit;
            var runs = new List<Profile>();
            foreach (var (_, connection) in connections.Skip(1))
            {
                runs.Add(await RunAsync(system, connection, parts));
            }

            byLimit.Add((limit, runs));
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"A provider that takes {latency} ms longer over each answer: full re-syncs, nothing changed (medians)"));
        Console.WriteLine();
        Console.WriteLine("| requests at once (Sync:MaxRequestsPerConnection) | whole sync, ms | provider requests | their time to headers, summed, ms |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var (limit, runs) in byLimit)
        {
            double Median(Func<Profile, double> figure) => Arguments.Spread([.. runs.Select(figure)]).Median;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {limit} | {Median(p => p.Total.TotalMilliseconds):0} | {Median(p => p.Requests):0} | {Median(p => p.Http.TotalMilliseconds):0} |"));
        }
    }

    private static string Row(string what, List<Profile> first, List<Profile> again, Func<Profile, double> figure, string format)
    {
        string Median(List<Profile> runs) => Arguments.Spread([.. runs.Select(figure)]).Median.ToString(format, CultureInfo.InvariantCulture);
        return $"| {what} | {Median(first)} | {Median(again)} |";
    }

    /// <summary>One full sync of <paramref name="connection"/> in this process; its parts, from the spans it made.</summary>
    private static async Task<Profile> RunAsync(BenchSystem system, Guid connection, Parts parts)
    {
        var run = new SyncRun
        {
            Id = Guid.CreateVersion7(), TenantId = system.TenantId, ConnectionId = connection, Status = SyncRunStatus.Queued, Trigger = SyncTrigger.Scheduled,
            FullSync = true, QueuedAt = DateTimeOffset.UtcNow,
        };
        await using (var db = AggregatorDbContext.ForSystem(system.Services.GetRequiredService<NpgsqlDataSource>()))
        {
            db.SyncRuns.Add(run);
            await db.SaveChangesAsync();
        }

        parts.Reset();
        var stopwatch = Stopwatch.StartNew();
        // The sync inside a trace of its own, as a job's: PostgreSQL commands are traced only inside one.
        using (Parts.Source.StartActivity("profiled sync"))
        await using (var scope = system.Services.CreateAsyncScope())
        {
            if (await scope.ServiceProvider.GetRequiredService<SyncEngine>().RunAsync(run.Id, CancellationToken.None) != SyncStart.Ran)
            {
                throw new InvalidOperationException($"Sync run {run.Id} did not run.");
            }
        }

        var total = stopwatch.Elapsed;
        await using (var db = AggregatorDbContext.ForSystem(system.Services.GetRequiredService<NpgsqlDataSource>()))
        {
            var ended = await db.SyncRuns.FindAsync(run.Id);
            if (ended!.Status is not (SyncRunStatus.Succeeded or SyncRunStatus.Partial))
            {
                throw new InvalidOperationException($"Sync run {run.Id} ended {ended.Status}: {ended.Error}");
            }

            return parts.Profile(total, StoredSyncCounts.ResourcesSoFar(StoredSyncCounts.Parse(ended.TypeCounts)));
        }
    }

    private sealed record Profile(int Resources, TimeSpan Total, int Requests, TimeSpan Http, TimeSpan Bodies, TimeSpan Storing, int Commands, TimeSpan Database, TimeSpan Rebuild)
    {
        public TimeSpan Rest => Total - Http - Bodies - Storing - Database - Rebuild;
    }

    /// <summary>Listens to this process's HttpClient, sync and Npgsql spans and to the rebuild's duration.</summary>
    private sealed class Parts : IDisposable
    {
        public static readonly ActivitySource Source = new("Aggregator.Benchmarks");
        private readonly ActivityListener _spans;
        private readonly MeterListener _meters = new();
        private readonly Lock _gate = new();
        private readonly List<(DateTime Start, TimeSpan Duration)> _commands = [];
        private readonly List<(DateTime Start, DateTime End)> _rebuilds = [];
        private readonly List<(DateTime Start, DateTime End)> _stores = [];
        private TimeSpan _bodies;
        private int _requests;
        private TimeSpan _http;

        public Parts()
        {
            _spans = new ActivityListener
            {
                ShouldListenTo = source => source.Name is "System.Net.Http" or "Npgsql" or SyncTracing.SourceName || source == Source,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
                ActivityStopped = Stopped,
            };
            ActivitySource.AddActivityListener(_spans);
            _meters.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == AggregatorMetrics.MeterName && instrument.Name == "aggregator.record.rebuild.duration")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _meters.SetMeasurementEventCallback<double>((_, seconds, _, _) =>
            {
                var end = DateTime.UtcNow;
                lock (_gate)
                {
                    _rebuilds.Add((end - TimeSpan.FromSeconds(seconds), end));
                }
            });
            _meters.Start();
        }

        public void Reset()
        {
            lock (_gate)
            {
                _commands.Clear();
                _rebuilds.Clear();
                _stores.Clear();
                _bodies = TimeSpan.Zero;
                _requests = 0;
                _http = TimeSpan.Zero;
            }
        }

        public Profile Profile(TimeSpan total, int resources)
        {
            lock (_gate)
            {
                // Database commands the rebuild and the page stores make are part of their time, not counted again.
                var outside = _commands.Where(c => !_rebuilds.Concat(_stores).Any(r => c.Start >= r.Start && c.Start <= r.End)).ToList();
                static TimeSpan Sum(IEnumerable<(DateTime Start, DateTime End)> spans) => spans.Aggregate(TimeSpan.Zero, (sum, r) => sum + (r.End - r.Start));
                return new Profile(
                    resources, total, _requests, _http, _bodies, Sum(_stores),
                    outside.Count, outside.Aggregate(TimeSpan.Zero, (sum, c) => sum + c.Duration), Sum(_rebuilds));
            }
        }

        private void Stopped(Activity activity)
        {
            lock (_gate)
            {
                if (activity.Source.Name == "Npgsql")
                {
                    _commands.Add((activity.StartTimeUtc, activity.Duration));
                }
                else if (activity.OperationName == SyncTracing.StorePage)
                {
                    _stores.Add((activity.StartTimeUtc, activity.StartTimeUtc + activity.Duration));
                }
                else if (activity.OperationName == SyncTracing.ReadBody)
                {
                    _bodies += activity.Duration;
                }
                else if (activity.Source.Name == "System.Net.Http")
                {
                    _requests++;
                    _http += activity.Duration;
                }
            }
        }

        public void Dispose()
        {
            _spans.Dispose();
            _meters.Dispose();
        }
    }
}
