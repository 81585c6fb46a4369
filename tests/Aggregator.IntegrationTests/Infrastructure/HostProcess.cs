using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Aggregator.IntegrationTests.Infrastructure;

/// <summary>
/// One of our hosts (the Api or the Worker, from the test's output folder) as a real process, its standard output and
/// error kept line by line: for what only a process shows, such as refusing to start or its first log lines.
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private HostProcess(string assembly, IReadOnlyDictionary<string, string?> environment, Uri url)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, assembly));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(url.AbsoluteUri.TrimEnd('/'));
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, line) => _output.Enqueue(line.Data ?? "");
        _process.ErrorDataReceived += (_, line) => _output.Enqueue(line.Data ?? "");
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Url = url;
    }

    public Uri Url { get; }

    /// <summary>The operating system's id of the host's process (Hangfire names its server after it).</summary>
    public int Id => _process.Id;

    /// <summary>Every line written so far, standard output and error together.</summary>
    public IReadOnlyList<string> Output => [.. _output];

    /// <summary>Starts <paramref name="assembly"/> listening on a free port of 127.0.0.1.</summary>
    public static HostProcess Start(string assembly, IReadOnlyDictionary<string, string?> environment) =>
        new(assembly, environment, new Uri($"http://127.0.0.1:{FreePort()}/"));

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The exit code of a host that must give up on its own within <paramref name="limit"/>.</summary>
    public async Task<int> ExitCodeAsync(TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"The host kept running: {string.Join('\n', Output)}");
        }

        // The asynchronous readers have seen the last line once the process has exited and this second wait returns.
        await _process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return _process.ExitCode;
    }

    /// <summary>Whether <c>/health/ready</c> answers 200 within <paramref name="limit"/> (false at once if the host exits).</summary>
    public async Task<bool> ReadyAsync(TimeSpan limit)
    {
        using var client = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTimeOffset.UtcNow + limit;
        while (DateTimeOffset.UtcNow < deadline && !_process.HasExited)
        {
            try
            {
                if ((await client.GetAsync(new Uri("health/ready", UriKind.Relative), TestContext.Current.CancellationToken)).IsSuccessStatusCode)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(250, TestContext.Current.CancellationToken);
        }

        return false;
    }

    /// <summary>Kills the host at once (SIGKILL: no shutdown, nothing flushed or handed back) and waits until it is gone.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync(CancellationToken.None);
        _process.Dispose();
    }
}
