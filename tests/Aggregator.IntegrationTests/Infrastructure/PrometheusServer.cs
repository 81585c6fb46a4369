using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Aggregator.IntegrationTests.Infrastructure;

/// <summary>
/// A real Prometheus (Debian's <c>prometheus</c> package; <c>AGGREGATOR_PROMETHEUS</c> names another binary) on a free
/// port of 127.0.0.1, scraping the given targets every second with the operator's credentials, its data in a temporary
/// folder. Queries go through its HTTP API, as a dashboard's would.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _folder;
    private readonly HttpClient _client;
    private readonly StringBuilder _output = new();

    private PrometheusServer(Process process, string folder, Uri url)
    {
        _process = process;
        _folder = folder;
        _client = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(10) };
    }

    public static async Task<PrometheusServer> StartAsync(IReadOnlyList<(string Job, Uri Url)> targets, string operatorPassword)
    {
        var binary = Environment.GetEnvironmentVariable("AGGREGATOR_PROMETHEUS") ?? "prometheus";
        var folder = Directory.CreateTempSubdirectory("aggregator-prometheus-").FullName;
        var config = new StringBuilder("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n");
        foreach (var job in targets.GroupBy(t => t.Job))
        {
            config.Append(CultureInfo.InvariantCulture, $"""
                  - job_name: {job.Key}
                    metrics_path: /metrics
                    basic_auth:
                      username: operator
                      password: "{operatorPassword}"
                    static_configs:
                      - targets: [{string.Join(", ", job.Select(t => $"\"{t.Url.Authority}\""))}]

                """);
        }

        var configPath = Path.Combine(folder, "prometheus.yml");
        await File.WriteAllTextAsync(configPath, config.ToString());
        var url = new Uri($"http://127.0.0.1:{HostProcess.FreePort()}/");
        var start = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("--config.file=" + configPath);
        start.ArgumentList.Add("--storage.tsdb.path=" + Path.Combine(folder, "data"));
        start.ArgumentList.Add("--web.listen-address=" + url.Authority);
        var server = new PrometheusServer(Process.Start(start)!, folder, url);
        server._process.OutputDataReceived += (_, line) => { lock (server._output) { server._output.AppendLine(line.Data); } };
        server._process.ErrorDataReceived += (_, line) => { lock (server._output) { server._output.AppendLine(line.Data); } };
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        await server.WaitReadyAsync();
        return server;
    }

    /// <summary>An instant query's samples: each series' labels and value.</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> QueryAsync(string promql)
    {
        var answer = await _client.GetFromJsonAsync<JsonElement>("api/v1/query?query=" + Uri.EscapeDataString(promql));
        Assert.Equal("success", answer.GetProperty("status").GetString());
        return [.. answer.GetProperty("data").GetProperty("result").EnumerateArray().Select(series => (
            (IReadOnlyDictionary<string, string>)series.GetProperty("metric").EnumerateObject().ToDictionary(l => l.Name, l => l.Value.GetString()!),
            double.Parse(series.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture)))];
    }

    /// <summary>Polls <paramref name="promql"/> until <paramref name="accept"/> holds for its samples; fails with the last answer.</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> WaitForAsync(
        string promql, Func<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>, bool> accept, TimeSpan? limit = null)
    {
        var deadline = DateTimeOffset.UtcNow + (limit ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var samples = await QueryAsync(promql);
            if (accept(samples))
            {
                return samples;
            }

            Assert.True(DateTimeOffset.UtcNow < deadline,
                $"Prometheus never answered '{promql}' as expected; last answer: [{string.Join("; ", samples.Select(s => string.Join(',', s.Labels.Select(l => l.Key + "=" + l.Value)) + " " + s.Value))}]");
            await Task.Delay(500);
        }
    }

    private async Task WaitReadyAsync()
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTimeOffset.UtcNow < deadline && !_process.HasExited)
        {
            try
            {
                if ((await _client.GetAsync(new Uri("-/ready", UriKind.Relative))).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(250);
        }

        lock (_output)
        {
            Assert.Fail("Prometheus did not become ready: " + _output);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync(CancellationToken.None);
        _process.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
