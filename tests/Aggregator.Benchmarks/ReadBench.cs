using System.Globalization;
using System.Net.Http.Headers;
using Aggregator.Domain.Tenants;
using Aggregator.Infrastructure.Tenants;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Benchmarks;

/// <summary>
/// Reads over real HTTP: the Api (Release build) runs as its own process on 127.0.0.1 against the
/// benchmark's database; 64 concurrent clients ask for 50-item pages of lab items, either the same
/// pages again (served from the version-keyed cache) or each time another query (a database read),
/// and for the record summary. Each path's ceiling is a <see cref="BareEndpoint"/> answering with the
/// same bytes (each patient's own, where a path is the same on every request of the patient), under the
/// same load in the same run.
/// </summary>
internal static class ReadBench
{
    /// <summary>The same 50-item labs page of each patient again and again (served from the version-keyed cache).</summary>
    private const string CachedPagePath = "v1/patients/{patient}/record/labs?limit=50";

    /// <summary>A labs page by a query never asked before (a database read: keyset scan of record_items, pre-rendered JSON).</summary>
    private const string DatabasePagePath = "v1/patients/{patient}/record/labs?limit=50&to=2100-01-01&status=final&from=19{n100}-01-01&x={run}-{thread}-{n}";

    /// <summary>Each patient's record summary (every app's first call).</summary>
    private const string SummaryPath = "v1/patients/{patient}/record";

    /// <summary>The first labs page, as the rebuild rendered and kept it (one row), read by an Api whose cache is off.</summary>
    private const string KeptFirstPagePath = "v1/patients/{patient}/record/labs";

    /// <summary>The same items as <see cref="KeptFirstPagePath"/> by a query over the items (<c>q=</c>, no words), cache off.</summary>
    private const string QueriedFirstPagePath = "v1/patients/{patient}/record/labs?q=";

    /// <summary>
    /// The read paths by the names <c>--reads</c> takes (all when it is not given): for profiling one of them. The paths
    /// marked cache off are read from a second Api whose page cache is off: what the first read after a record change costs.
    /// </summary>
    private static readonly (string Name, string Path, string Template, double? Target, string LatencyGoal, bool CacheOff)[] Paths =
    [
        ("cached", "reads: a cached 50-item labs page", CachedPagePath, 0.75, "p99 under 15 ms", false),
        ("database", "reads: a filtered labs page (database)", DatabasePagePath, 0.10, "p99 under 50 ms", false),
        ("summary", "reads: the record summary", SummaryPath, 0.75, "p99 under 15 ms", false),
        // The issue sets no goal of their own: they show what keeping first pages changes for a first read after a change.
        ("first", "reads: a first labs page, cache off (kept by the rebuild)", KeptFirstPagePath, null, "none set", true),
        ("first-query", "reads: a first labs page, cache off (queried)", QueriedFirstPagePath, null, "none set", true),
    ];

    public static async Task RunAsync(string repo, string connectionString, IngestBench bench, TimeSpan duration, BenchReport report, IReadOnlyCollection<string>? only = null)
    {
        var paths = Paths.Where(p => only is null || only.Contains(p.Name)).ToList();
        var api = Path.Combine(repo, "src", "Api", "bin", "Release", "net10.0", "Aggregator.Api.dll");
        if (!File.Exists(api))
        {
            Console.WriteLine($"Reads: skipped, build the Api first (dotnet build src/Api -c Release); {api} is missing.");
            return;
        }

        await using var scope = bench.Services.CreateAsyncScope();
        var key = await scope.ServiceProvider.GetRequiredService<TenantAdministration>().CreateKeyAsync(bench.TenantId, "bench", ApiKeyEnvironment.Test, CancellationToken.None);
        var appRole = await AppRoleAsync(connectionString);
        var load = new LoadGenerator();
        Console.WriteLine($"Reads over HTTP: the Api (Release, Production: an ordinary role under row-level security, API key, auditing, rate limits lifted) and beside each path a bare endpoint serving the same bytes; load from {load.Description}");
        foreach (var group in paths.GroupBy(p => p.CacheOff))
        {
            await using var process = StartApi(api, connectionString, appRole, bench.KeyRingCertificatePath, cacheOff: group.Key, out var operatorPassword);
            await process.WaitReadyAsync();
            var baseUri = process.Url;
            using var client = new HttpClient { BaseAddress = baseUri };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Key);
            // The benchmark reads the Api's cache counters from /metrics, as an operator would.
            using var metrics = new HttpClient { BaseAddress = baseUri };
            metrics.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("operator:" + operatorPassword)));
            var patients = bench.PatientIds;
            await WarmUpAsync(load, metrics, baseUri, key.Key, patients, group.Select(p => p.Template).ToList());
            foreach (var path in group)
            {
                await MeasureAsync(report, load, client, metrics, process.Id, baseUri, key.Key, patients, duration,
                    path.Path, path.Template, path.Target, path.LatencyGoal);
            }
        }
    }

    /// <summary>The Api as its own process, as production runs it; with its page cache off for the cache-off paths.</summary>
    private static ChildProcess StartApi(string api, string connectionString, string appRole, string keyRingCertificate, bool cacheOff, out string operatorPassword)
    {
        operatorPassword = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var port = BenchDatabase.FreePort();
        return ChildProcess.Start("Api", api, new Dictionary<string, string>
        {
            // As in production, the Api connects as an ordinary role, under row-level security, and migrates as the owner.
            ["ConnectionStrings__Aggregator"] = appRole,
            ["ConnectionStrings__AggregatorOwner"] = connectionString,
            // The benchmark measures throughput, not the per-tenant rate limit (200 a second by default).
            ["RateLimits__PerTenantPerSecond"] = "1000000",
            ["RateLimits__AnonymousPerIpPerSecond"] = "1000000",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            // Production refuses to start without its public url and a certificate over the key ring: the benchmark gives both.
            ["Api__PublicBaseUrl"] = $"http://127.0.0.1:{port}",
            ["DataProtection__CertificatePath"] = keyRingCertificate,
            ["DataProtection__CertificatePassword"] = "",
            ["Operator__DashboardPassword"] = operatorPassword,
            ["RecordCache__Enabled"] = cacheOff ? "false" : "true",
            ["Serilog__MinimumLevel__Default"] = "Warning",
            ["Serilog__MinimumLevel__Override__Microsoft.AspNetCore"] = "Warning",
        }, port);
    }

    /// <summary>
    /// The Api's code reaches its steady state only after a while under load: the tiered JIT recompiles hot methods
    /// (instrumented first, then optimised) on a background thread that competes with the load for the two cores. With
    /// 5 s of warm-up per path, a profile of the database path 25 s into its load still found the middleware, EF Core and
    /// Npgsql running instrumented code, about 800 methods compiled every 5 s, and the JIT's thread taking an eighth of
    /// the CPU. So every path is warmed up in rounds of 5 s under load and 1 s idle (for the JIT's backlog), until a round
    /// compiles fewer than 50 methods (the Api's <c>dotnet_jit_compiled_methods_total</c>) or 2 minutes have passed.
    /// </summary>
    private static async Task WarmUpAsync(LoadGenerator load, HttpClient metrics, Uri baseUri, string bearer, IReadOnlyList<Guid> patients, IReadOnlyList<string> templates)
    {
        const int Settled = 50;
        var started = System.Diagnostics.Stopwatch.StartNew();
        var compiled = await CompiledMethodsAsync(metrics);
        var lastRound = double.NaN;
        while (started.Elapsed < TimeSpan.FromMinutes(2))
        {
            foreach (var template in templates)
            {
                await load.RunAsync(baseUri, bearer, template, patients, TimeSpan.FromSeconds(5));
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
            var now = await CompiledMethodsAsync(metrics);
            lastRound = now - compiled;
            compiled = now;
            if (double.IsNaN(lastRound) || lastRound < Settled * templates.Count)
            {
                break;
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Warmed up for {started.Elapsed.TotalSeconds:0} s; the JIT compiled {lastRound:N0} methods in the last round of {templates.Count} path(s)"));
    }

    /// <summary>How many methods the Api's JIT has compiled so far (its Prometheus endpoint), NaN when it does not say.</summary>
    private static async Task<double> CompiledMethodsAsync(HttpClient metrics) =>
        PrometheusText.Sum(await metrics.GetStringAsync(new Uri("metrics", UriKind.Relative)), "dotnet_jit_compiled_methods_total") ?? double.NaN;

    /// <summary>One read path of the Api under load, then a bare endpoint serving the bytes of its answers under the same load.</summary>
    private static async Task MeasureAsync(
        BenchReport report, LoadGenerator load, HttpClient client, HttpClient metrics, int apiProcess, Uri baseUri, string bearer, IReadOnlyList<Guid> patients,
        TimeSpan duration, string path, string template, double? target, string latencyGoal)
    {
        var (hitsBefore, missesBefore) = await CacheCountsAsync(metrics);
        var (apiBefore, postgresBefore) = (ProcessCpu.Of(apiProcess), ProcessCpu.OfPostgres());
        var ours = await load.RunAsync(baseUri, bearer, template, patients, duration);
        var apiCpu = ProcessCpu.PerRequestUs(ProcessCpu.Of(apiProcess) - apiBefore, ours.Requests);
        var postgresCpu = ProcessCpu.PerRequestUs(ProcessCpu.Between(postgresBefore, ProcessCpu.OfPostgres()), ours.Requests);
        var (hitsAfter, missesAfter) = await CacheCountsAsync(metrics);
        var hits = hitsAfter - hitsBefore;
        var lookups = hits + missesAfter - missesBefore;
        var sample = LoadGenerator.PathFor(template, patients[0], n: 50, thread: 0, run: "sample");
        using var answer = await client.GetAsync(new Uri(sample, UriKind.Relative));
        answer.EnsureSuccessStatusCode();
        var body = await answer.Content.ReadAsByteArrayAsync();
        // A path the same for every request of a patient (a cached page, the summary): the ceiling answers each with the
        // Api's own bytes for it. A path new on every request (a database read): one of its answers for all.
        var bodies = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        if (!template.Contains("{n", StringComparison.Ordinal))
        {
            foreach (var patient in patients)
            {
                var one = LoadGenerator.PathFor(template, patient, n: 0, thread: 0, run: "");
                bodies["/" + one] = await client.GetByteArrayAsync(new Uri(one, UriKind.Relative));
            }
        }

        await using var bare = await BareEndpoint.StartAsync(bodies, body, answer.Content.Headers.ContentType?.ToString() ?? "application/json");
        // Warmed up as the Api was (a fresh process reaches its steady state only after some seconds under load).
        await load.RunAsync(bare.BaseUri, null, template, patients, TimeSpan.FromSeconds(5));
        var bareBefore = ProcessCpu.Of(bare.ProcessId);
        var ceiling = await load.RunAsync(bare.BaseUri, null, template, patients, duration);
        var bareCpu = ProcessCpu.PerRequestUs(ProcessCpu.Of(bare.ProcessId) - bareBefore, ceiling.Requests);
        report.Add(new BenchFigure(path, ours.RequestsPerSecond, "req/s", bodies.Count > 0 ? "bare endpoint, each path's bytes" : "bare endpoint, one answer's bytes", ceiling.RequestsPerSecond, HigherIsBetter: true, target,
            string.Create(CultureInfo.InvariantCulture,
                $"p99 {ours.P99Ms:0.0} ms, goal {latencyGoal}; bare p99 {ceiling.P99Ms:0.0} ms; {body.Length:N0} bytes; cache hits {(lookups == 0 ? 0 : 100.0 * hits / lookups):0}%; {ours.Failures + ceiling.Failures} failed; "
                + $"CPU a request: the Api {apiCpu:0.0} µs, PostgreSQL {postgresCpu:0.0} µs, the bare endpoint {bareCpu:0.0} µs")));
    }

    /// <summary>
    /// A login role that owns nothing and does not bypass row-level security (the Api's migrator grants it its rights),
    /// created by the benchmark's own, owning role; its connection string.
    /// </summary>
    private static async Task<string> AppRoleAsync(string ownerConnectionString)
    {
        const string Role = "aggregator_bench_app";
        const string Password = "bench-app";
        await using var connection = new Npgsql.NpgsqlConnection(ownerConnectionString);
        await connection.OpenAsync();
        await using var create = new Npgsql.NpgsqlCommand(
            $"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{Role}') THEN CREATE ROLE {Role} LOGIN PASSWORD '{Password}'; END IF; END $$",
            connection);
        await create.ExecuteNonQueryAsync();
        return new Npgsql.NpgsqlConnectionStringBuilder(ownerConnectionString) { Username = Role, Password = Password }.ConnectionString;
    }

    /// <summary>The Api's record cache counters (hits, misses) from its Prometheus endpoint.</summary>
    private static async Task<(double Hits, double Misses)> CacheCountsAsync(HttpClient metrics)
    {
        var text = await metrics.GetStringAsync(new Uri("metrics", UriKind.Relative));
        return (PrometheusText.Sum(text, "aggregator_cache_requests_total", "result=\"hit\"") ?? 0, PrometheusText.Sum(text, "aggregator_cache_requests_total", "result=\"miss\"") ?? 0);
    }
}
