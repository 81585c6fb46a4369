using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Aggregator.Domain.Tenants;
using Aggregator.Infrastructure.Tenants;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Benchmarks;

/// <summary>
/// Reads over real HTTP: the Api (Release build) runs as its own process on 127.0.0.1 against the
/// benchmark's database; 64 concurrent clients ask for 50-item pages of lab items, either the same
/// pages again (served from the version-keyed cache) or each time another query (a database read).
/// </summary>
internal static class ReadBench
{
    private const int Clients = 64;

    public static async Task RunAsync(string repo, string connectionString, IngestBench bench, TimeSpan duration)
    {
        var api = Path.Combine(repo, "src", "Api", "bin", "Release", "net10.0", "Aggregator.Api.dll");
        if (!File.Exists(api))
        {
            Console.WriteLine($"Reads: skipped, build the Api first (dotnet build src/Api -c Release); {api} is missing.");
            return;
        }

        await using var scope = bench.Services.CreateAsyncScope();
        var key = await scope.ServiceProvider.GetRequiredService<TenantAdministration>().CreateKeyAsync(bench.TenantId, "bench", ApiKeyEnvironment.Test, CancellationToken.None);
        var port = BenchDatabase.FreePort();
        var start = new ProcessStartInfo("dotnet", [api, "--urls", $"http://127.0.0.1:{port}", "--contentRoot", Path.GetDirectoryName(api)!])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ConnectionStrings__Aggregator"] = connectionString;
        // The benchmark measures throughput, not the per-tenant rate limit (200 a second by default).
        start.Environment["RateLimits__PerTenantPerSecond"] = "1000000";
        start.Environment["RateLimits__AnonymousPerIpPerSecond"] = "1000000";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        // Production refuses to start without its public url and a certificate over the key ring: the benchmark gives both.
        start.Environment["Api__PublicBaseUrl"] = $"http://127.0.0.1:{port}";
        start.Environment["DataProtection__CertificatePath"] = bench.KeyRingCertificatePath;
        start.Environment["DataProtection__CertificatePassword"] = "";
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        start.Environment["Serilog__MinimumLevel__Override__Microsoft.AspNetCore"] = "Warning";
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = Clients, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
            using var client = new HttpClient(handler) { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Key);
            await WaitReadyAsync(client, process);

            var patients = bench.PatientIds;
            await RunAsync("Reads, cached pages (same 50-item lab pages again; no database round trip)", client, duration, (n, _) =>
                $"v1/patients/{patients[n % patients.Count]}/record/labs?limit=50");
            await RunAsync("Reads, database pages (each query new: keyset scan of record_items, pre-rendered JSON)", client, duration, (n, worker) =>
                $"v1/patients/{patients[n % patients.Count]}/record/labs?limit=50&to=2100-01-01&status=final&from=19{(worker * 100_003 + n) % 100:00}-01-01&x={worker}-{n}");
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    private static async Task RunAsync(string title, HttpClient client, TimeSpan duration, Func<int, int, string> path)
    {
        // Warm up (JIT, connections, and for the cached run the cache itself).
        await Load(client, TimeSpan.FromSeconds(2), path, new List<double>[Clients]);
        var latencies = new List<double>[Clients];
        var stopwatch = Stopwatch.StartNew();
        var failures = await Load(client, duration, path, latencies);
        var elapsed = stopwatch.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).ToList();
        var (median, _) = Arguments.Spread(all);
        all.Sort();
        var p99 = all[Math.Min(all.Count - 1, (int)Math.Ceiling(all.Count * 0.99) - 1)];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{title}: {all.Count / elapsed:N0} req/s, median {median:0.0} ms, p99 {p99:0.0} ms ({Clients} clients, {all.Count:N0} requests, {failures} failed)"));
    }

    private static async Task<int> Load(HttpClient client, TimeSpan duration, Func<int, int, string> path, List<double>[] latencies)
    {
        var failures = 0;
        using var stop = new CancellationTokenSource(duration);
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(async worker =>
        {
            var mine = latencies[worker] = [];
            for (var n = worker; !stop.IsCancellationRequested; n += Clients)
            {
                var one = Stopwatch.StartNew();
                using var response = await client.GetAsync(new Uri(path(n, worker), UriKind.Relative), HttpCompletionOption.ResponseContentRead);
                mine.Add(one.Elapsed.TotalMilliseconds);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }));
        return failures;
    }

    private static async Task WaitReadyAsync(HttpClient client, Process process)
    {
        for (var i = 0; i < 240; i++)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException("The Api stopped while starting.");
            }

            try
            {
                using var ready = await client.GetAsync(new Uri("health/ready", UriKind.Relative));
                if (ready.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(500);
        }

        throw new InvalidOperationException("The Api did not become ready within 120 s.");
    }
}
