using System.Text.Json;
using Aggregator.Domain.Connections;
using Aggregator.Infrastructure.Jobs;
using Aggregator.Infrastructure.Persistence;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Aggregator.Infrastructure.Observability;

/// <summary>
/// The gauges computed from the database (<c>aggregator_connections{status}</c>, <c>aggregator_queue_depth{queue}</c>),
/// owned by one process at a time: whichever host holds a PostgreSQL session advisory lock counts every
/// <c>Telemetry:GaugeInterval</c> and reports the cached figures; every other replica reports none, so a sum across
/// replicas counts each connection once, and a scrape never scans a table. When the owner dies its session ends, the
/// lock is free, and another process takes over at its next attempt.
/// </summary>
public sealed partial class OperationalGauges : BackgroundService
{
    private const int LockSpace = 0x4d45_5452; // "METR"
    private const int GaugesLock = 1;
    private static readonly string[] Statuses = [.. Enum.GetNames<ConnectionStatus>().Select(Label)];

    private readonly NpgsqlDataSource _dataSource;
    private readonly IOptions<DatabaseOptions> _database;
    private readonly IOptions<TelemetryOptions> _options;
    private readonly ILogger<OperationalGauges> _logger;
    private NpgsqlConnection? _ownerSession;
    private volatile Snapshot? _snapshot;

    public OperationalGauges(
        AggregatorMetrics metrics, NpgsqlDataSource dataSource, IOptions<DatabaseOptions> database, IOptions<TelemetryOptions> options,
        ILogger<OperationalGauges> logger)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _dataSource = dataSource;
        _database = database;
        _options = options;
        _logger = logger;
        metrics.Meter.CreateObservableGauge("aggregator.connections", () => Measure(s => s.Connections, "status"),
            description: "Connections by status (reported by one process: the gauges' owner).");
        metrics.Meter.CreateObservableGauge("aggregator.queue.depth", () => Measure(s => s.Queues, "queue"),
            description: "Jobs waiting in each Hangfire queue (reported by one process: the gauges' owner).");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.Value.GaugeInterval);
        do
        {
            try
            {
                if (await HoldOwnershipAsync(stoppingToken))
                {
                    _snapshot = await CountAsync(stoppingToken);
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
            {
                // The database is away: report nothing rather than stale figures, and try again next time.
                LogCountFailed(_logger, ex.GetType().Name);
                await ReleaseAsync();
            }
        }
        while (await Tick(timer, stoppingToken));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await ReleaseAsync();
    }

    private static async Task<bool> Tick(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Keeps (or tries to take) the owner's lock; false when another process owns the gauges.</summary>
    private async Task<bool> HoldOwnershipAsync(CancellationToken cancellationToken)
    {
        if (_ownerSession is { } held)
        {
            // Still ours while the session lives; a broken session has lost the lock with it.
            await using var ping = new NpgsqlCommand("SELECT 1", held);
            await ping.ExecuteScalarAsync(cancellationToken);
            return true;
        }

        var session = await _dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var take = new NpgsqlCommand("SELECT pg_try_advisory_lock($1, $2)", session);
            take.Parameters.Add(new NpgsqlParameter<int> { TypedValue = LockSpace });
            take.Parameters.Add(new NpgsqlParameter<int> { TypedValue = GaugesLock });
            if (await take.ExecuteScalarAsync(cancellationToken) is true)
            {
                _ownerSession = session;
                LogOwner(_logger);
                return true;
            }
        }
        finally
        {
            if (_ownerSession != session)
            {
                await session.DisposeAsync();
            }
        }

        return false;
    }

    private async Task<Snapshot> CountAsync(CancellationToken cancellationToken)
    {
        var connections = Statuses.ToDictionary(s => s, _ => 0L, StringComparer.Ordinal);
        var queues = JobQueues.All.ToDictionary(q => q, _ => 0L, StringComparer.Ordinal);
        await using var session = await _dataSource.OpenConnectionAsync(cancellationToken);
        await TenantSession.ForSystemAsync(session, cancellationToken);
        await using (var count = new NpgsqlCommand("SELECT status, count(*) FROM connections GROUP BY status", session))
        await using (var reader = await count.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                connections[Label(reader.GetString(0))] = reader.GetInt64(1);
            }
        }

        var schema = new NpgsqlCommandBuilder().QuoteIdentifier(_database.Value.HangfireSchema);
        await using (var depth = new NpgsqlCommand($"SELECT queue, count(*) FROM {schema}.jobqueue WHERE fetchedat IS NULL GROUP BY queue", session))
        await using (var reader = await depth.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                queues[reader.GetString(0)] = reader.GetInt64(1);
            }
        }

        return new Snapshot(connections, queues);
    }

    private IEnumerable<System.Diagnostics.Metrics.Measurement<long>> Measure(Func<Snapshot, Dictionary<string, long>> figures, string label) =>
        _ownerSession is not null && _snapshot is { } snapshot
            ? figures(snapshot).Select(f => new System.Diagnostics.Metrics.Measurement<long>(f.Value, new KeyValuePair<string, object?>(label, f.Key)))
            : [];

    private async Task ReleaseAsync()
    {
        _snapshot = null;
        if (Interlocked.Exchange(ref _ownerSession, null) is { } session)
        {
            try
            {
                // Unlocked before the pooled session goes back to the pool (a broken session has lost the lock already).
                await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock($1, $2)", session);
                unlock.Parameters.Add(new NpgsqlParameter<int> { TypedValue = LockSpace });
                unlock.Parameters.Add(new NpgsqlParameter<int> { TypedValue = GaugesLock });
                await unlock.ExecuteScalarAsync();
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                // The session is gone, and its lock with it.
            }

            await session.DisposeAsync();
        }
    }

    private static string Label(string status) => JsonNamingPolicy.SnakeCaseLower.ConvertName(status);

    private sealed record Snapshot(Dictionary<string, long> Connections, Dictionary<string, long> Queues);

    [LoggerMessage(Level = LogLevel.Information, Message = "This process now reports the database gauges (connections, queue depth)")]
    private static partial void LogOwner(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Counting the database gauges failed ({Error}); trying again at the next interval")]
    private static partial void LogCountFailed(ILogger logger, string error);
}
