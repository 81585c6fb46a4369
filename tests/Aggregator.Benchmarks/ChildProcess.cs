using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Aggregator.Benchmarks;

/// <summary>
/// One of our hosts (a Release build) as a process of its own on 127.0.0.1: started with its settings as environment
/// variables, its output kept (the last lines, to show when it fails), stopped with SIGTERM as an orchestrator would.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private const int KeptLines = 200;
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private Lazy<Task>? _disposal;

    private ChildProcess(string name, string dll, IReadOnlyDictionary<string, string> environment, int port, IReadOnlyList<string> arguments)
    {
        Name = name;
        Url = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/");
        var start = new ProcessStartInfo("dotnet", [dll, .. arguments, "--urls", Url.AbsoluteUri.TrimEnd('/'), "--contentRoot", Path.GetDirectoryName(dll)!])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, line) => Keep(line.Data);
        _process.ErrorDataReceived += (_, line) => Keep(line.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        BenchCleanup.Add(this);
    }

    public string Name { get; }

    public Uri Url { get; }

    public int Id => _process.Id;

    /// <summary>
    /// Starts <paramref name="dll"/> on <paramref name="port"/> of 127.0.0.1 (a free one when 0), with
    /// <paramref name="arguments"/> before the url and content root it is always given.
    /// </summary>
    public static ChildProcess Start(string name, string dll, IReadOnlyDictionary<string, string> environment, int port = 0, IReadOnlyList<string>? arguments = null) =>
        new(name, dll, environment, port == 0 ? BenchDatabase.FreePort() : port, arguments ?? []);

    /// <summary>Waits until <c>/health/ready</c> answers 200; throws with the host's last lines if it stops or takes over two minutes.</summary>
    public async Task WaitReadyAsync()
    {
        using var client = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTimeOffset.UtcNow.AddMinutes(2);
        while (DateTimeOffset.UtcNow < deadline && !_process.HasExited)
        {
            try
            {
                using var ready = await client.GetAsync(new Uri("health/ready", UriKind.Relative));
                if (ready.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            await Task.Delay(250);
        }

        throw new InvalidOperationException($"The {Name} did not become ready:\n{string.Join('\n', _output)}");
    }

    /// <summary>SIGTERM (the host finishes or hands back its jobs and stops), then SIGKILL if it has not gone within 30 s.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", Id.ToString(CultureInfo.InvariantCulture)]) { RedirectStandardError = true })!)
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>Stops it once, whether the run ends or is told to stop (<see cref="BenchCleanup"/>) first; both wait for it.</summary>
    public ValueTask DisposeAsync()
    {
        var stopping = new Lazy<Task>(StopAndForgetAsync);
        return new ValueTask((Interlocked.CompareExchange(ref _disposal, stopping, null) ?? stopping).Value);
    }

    private async Task StopAndForgetAsync()
    {
        BenchCleanup.Forget(this);
        await StopAsync();
        _process.Dispose();
    }

    public override string ToString() => $"the {Name} (process {Id})";

    private void Keep(string? line)
    {
        _output.Enqueue(line ?? "");
        while (_output.Count > KeptLines && _output.TryDequeue(out _))
        {
        }
    }
}
