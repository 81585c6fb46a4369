using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Aggregator.Benchmarks;

/// <summary>
/// The benchmark's PostgreSQL: <c>AGGREGATOR_BENCH_POSTGRES</c> (a server where a database may be
/// created), else a throwaway cluster from the machine's binaries (<c>deploy/local/pgcluster.sh</c>), removed at the end.
/// </summary>
internal sealed class BenchDatabase : IAsyncDisposable
{
    private readonly string _repo;
    private readonly string? _clusterDir;
    private Lazy<Task>? _disposal;

    private BenchDatabase(string repo, string connectionString, string? clusterDir, string description)
    {
        _repo = repo;
        ConnectionString = connectionString;
        _clusterDir = clusterDir;
        Description = description;
    }

    public string ConnectionString { get; }

    public string Description { get; }

    public static async Task<BenchDatabase> StartAsync(string repo)
    {
        var database = "aggregator_bench_" + Guid.NewGuid().ToString("N")[..8];
        if (Environment.GetEnvironmentVariable("AGGREGATOR_BENCH_POSTGRES") is { Length: > 0 } server)
        {
            return new BenchDatabase(repo, new Npgsql.NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString, null, "AGGREGATOR_BENCH_POSTGRES");
        }

        var dir = Path.Combine("/var/tmp", "aggregator-bench-" + Guid.NewGuid().ToString("N")[..8], "postgres");
        Directory.CreateDirectory(Path.GetDirectoryName(dir)!);
        if (!OperatingSystem.IsWindows())
        {
            // The cluster's owner (postgres, when run as root) must be able to enter it.
            File.SetUnixFileMode(Path.GetDirectoryName(dir)!, (UnixFileMode)0b111_101_101);
        }
        var port = FreePort();
        await ClusterAsync(repo, "start", dir, port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var cluster = new BenchDatabase(repo, $"Host=127.0.0.1;Port={port};Username=aggregator;Database={database}", dir, "a throwaway cluster from the machine's binaries");
        // A run told to stop still removes its throwaway cluster.
        BenchCleanup.Add(cluster);
        return cluster;
    }

    public override string ToString() => _clusterDir is null ? Description : $"the cluster at {_clusterDir}";

    /// <summary>Removes a throwaway cluster once, whether the run ends or is told to stop first; both wait for it.</summary>
    public ValueTask DisposeAsync()
    {
        if (_clusterDir is null)
        {
            return ValueTask.CompletedTask;
        }

        var removing = new Lazy<Task>(() => RemoveClusterAsync(_clusterDir));
        return new ValueTask((Interlocked.CompareExchange(ref _disposal, removing, null) ?? removing).Value);
    }

    private async Task RemoveClusterAsync(string clusterDir)
    {
        BenchCleanup.Forget(this);
        await ClusterAsync(_repo, "destroy", clusterDir);
        Directory.Delete(Path.GetDirectoryName(clusterDir)!, recursive: true);
    }

    private static async Task ClusterAsync(string repo, params string[] args)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(repo, "deploy", "local", "pgcluster.sh"), .. args]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"pgcluster.sh {args[0]} failed: {output}");
        }
    }

    /// <summary>A free TCP port on loopback.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
