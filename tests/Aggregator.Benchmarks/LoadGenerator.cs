using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;

namespace Aggregator.Benchmarks;

/// <summary>What one load run measured.</summary>
internal sealed record LoadResult(double RequestsPerSecond, double MedianMs, double P99Ms, long Requests, long Failures);

/// <summary>
/// Many clients asking over HTTP on 127.0.0.1 for a while. With <c>wrk</c> on the PATH (Debian's package) it drives
/// the load, as the issue's figures were measured: a C program that costs the two cores far less than the server it
/// loads. Without it, the same requests come from <see cref="HttpClient"/> tasks in this process, which take a large
/// share of the cores themselves; every figure and its ceiling use the same generator, so the ratio holds either way.
/// A path template may name <c>{patient}</c> (cycling through the patients), <c>{n}</c> (the request's number within
/// its thread), <c>{n100}</c> (that number's last two digits), <c>{thread}</c> and <c>{run}</c> (the warm-up's and the measured
/// run's differ), so that a run can ask for a query not asked before on every request.
/// </summary>
internal sealed partial class LoadGenerator
{
    public const int Clients = 64;

    private readonly string? _wrk;

    public LoadGenerator()
    {
        _wrk = Environment.GetEnvironmentVariable("PATH")?.Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, "wrk")).FirstOrDefault(File.Exists);
    }

    public string Description => _wrk is null
        ? $"{Clients} HttpClient tasks in the benchmark's process (install Debian's wrk for a lighter generator)"
        : $"wrk, 2 threads, {Clients} connections";

    public Task<LoadResult> RunAsync(Uri baseUri, string? bearer, string template, IReadOnlyList<Guid> patients, TimeSpan duration) =>
        _wrk is null ? WithHttpClientAsync(baseUri, bearer, template, patients, duration) : WithWrkAsync(baseUri, bearer, template, patients, duration);

    private async Task<LoadResult> WithWrkAsync(Uri baseUri, string? bearer, string template, IReadOnlyList<Guid> patients, TimeSpan duration)
    {
        // Two scripts, for the warm-up and the measured run: each gives {run} its own value.
        var script = Path.Combine(Path.GetTempPath(), $"aggregator-bench-{Guid.NewGuid():N}-{{run}}.lua");
        var lua = new StringBuilder();
        lua.Append("local patients = {").AppendJoin(',', patients.Select(p => $"\"{p}\"")).AppendLine("}");
        lua.Append("local template = \"/").Append(template.Replace("\"", "\\\"", StringComparison.Ordinal)).AppendLine("\"");
        // Each wrk thread has a Lua state of its own: setup numbers them, so that {thread} tells their queries apart.
        lua.AppendLine("local threads = 0");
        lua.AppendLine("function setup(thread) threads = threads + 1; thread:set(\"id\", threads) end");
        lua.AppendLine("local n = 0");
        lua.AppendLine("request = function()");
        lua.AppendLine("  n = n + 1");
        lua.AppendLine("  local path = template:gsub(\"{patient}\", patients[(n % #patients) + 1]):gsub(\"{n}\", tostring(n)):gsub(\"{thread}\", tostring(id or 0)):gsub(\"{n100}\", string.format(\"%02d\", n % 100))");
        lua.AppendLine("  return wrk.format(nil, path)");
        lua.AppendLine("end");
        // Unique to this call, so that no run repeats a query of an earlier one.
        var salt = Guid.NewGuid().ToString("N")[..8];
        foreach (var run in new[] { "warm", "measured" })
        {
            await File.WriteAllTextAsync(script.Replace("{run}", run, StringComparison.Ordinal), lua.ToString().Replace("{run}", run + salt, StringComparison.Ordinal));
        }

        try
        {
            // A short warm-up (JIT, connections, and for cached pages the cache itself), then the measured run.
            await RunWrkAsync(baseUri, bearer, script.Replace("{run}", "warm", StringComparison.Ordinal), TimeSpan.FromSeconds(2));
            var output = await RunWrkAsync(baseUri, bearer, script.Replace("{run}", "measured", StringComparison.Ordinal), duration);
            var requests = long.Parse(RequestsLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
            var perSecond = double.Parse(RateLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
            var failures = NonSuccessLine().Match(output) is { Success: true } non ? long.Parse(non.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
            var errors = SocketErrorsLine().Match(output) is { Success: true } socket
                ? socket.Groups.Values.Skip(1).Sum(g => long.Parse(g.Value, CultureInfo.InvariantCulture))
                : 0;
            return new LoadResult(perSecond, Percentile(output, "50"), Percentile(output, "99"), requests, failures + errors);
        }
        finally
        {
            File.Delete(script.Replace("{run}", "warm", StringComparison.Ordinal));
            File.Delete(script.Replace("{run}", "measured", StringComparison.Ordinal));
        }
    }

    private async Task<string> RunWrkAsync(Uri baseUri, string? bearer, string script, TimeSpan duration)
    {
        var start = new ProcessStartInfo(_wrk!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "-t2", $"-c{Clients}", $"-d{Math.Max(1, (int)duration.TotalSeconds)}s", "--latency", "--timeout", "10s", "-s", script })
        {
            start.ArgumentList.Add(argument);
        }

        if (bearer is not null)
        {
            start.ArgumentList.Add("-H");
            start.ArgumentList.Add("Authorization: Bearer " + bearer);
        }

        start.ArgumentList.Add(baseUri.GetLeftPart(UriPartial.Authority));
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"wrk failed ({process.ExitCode}): {await error}");
        }

        return await output;
    }

    private static double Percentile(string output, string percent)
    {
        var match = Regex.Match(output, $@"^\s*{percent}(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline, TimeSpan.FromSeconds(1));
        if (!match.Success)
        {
            return double.NaN;
        }

        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
    }

    /// <summary>One request's path from a template (the Lua script does the same in wrk).</summary>
    public static string PathFor(string template, Guid patient, int n, int thread, string run) => template
        .Replace("{run}", run, StringComparison.Ordinal)
        .Replace("{patient}", patient.ToString(), StringComparison.Ordinal)
        .Replace("{n}", n.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{thread}", thread.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{n100}", (n % 100).ToString("00", CultureInfo.InvariantCulture), StringComparison.Ordinal);

    private static async Task<LoadResult> WithHttpClientAsync(Uri baseUri, string? bearer, string template, IReadOnlyList<Guid> patients, TimeSpan duration)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = Clients, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        using var client = new HttpClient(handler) { BaseAddress = baseUri };
        if (bearer is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        var salt = Guid.NewGuid().ToString("N")[..8];
        var run = "warm" + salt;
        string PathOf(int n, int worker) => PathFor(template, patients[n % patients.Count], n, worker, run);

        await LoadAsync(client, TimeSpan.FromSeconds(2), PathOf, new List<double>[Clients]);
        run = "measured" + salt;
        var latencies = new List<double>[Clients];
        var stopwatch = Stopwatch.StartNew();
        var failures = await LoadAsync(client, duration, PathOf, latencies);
        var elapsed = stopwatch.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).ToList();
        all.Sort();
        return new LoadResult(all.Count / elapsed, all[all.Count / 2], all[Math.Min(all.Count - 1, (int)Math.Ceiling(all.Count * 0.99) - 1)], all.Count, failures);
    }

    private static async Task<int> LoadAsync(HttpClient client, TimeSpan duration, Func<int, int, string> path, List<double>[] latencies)
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

    [GeneratedRegex(@"(\d+) requests in")]
    private static partial Regex RequestsLine();

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RateLine();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex NonSuccessLine();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrorsLine();
}
