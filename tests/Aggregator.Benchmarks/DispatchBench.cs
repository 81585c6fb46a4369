using System.Diagnostics;
using System.Globalization;
using Aggregator.Domain.Providers;
using Aggregator.Domain.Tenants;
using Aggregator.Infrastructure.Jobs;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Sync;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Aggregator.Benchmarks;

/// <summary>
/// The dispatcher at scale: connection tables of growing size, generated in the database, 1% of them due; the real
/// <see cref="SyncDispatcher"/> claims them (claim statement, run inserts and Hangfire jobs in the real storage, one
/// transaction per batch). Beside it, in the same run and on the same rows, two ceilings: the same claim statement (kept
/// the same as the dispatcher's by hand) and a plain INSERT of the runs per batch over raw Npgsql, with no jobs; and
/// Hangfire's enqueue alone, as many jobs in one transaction. The rate must not fall as the table grows.
/// </summary>
internal sealed class DispatchBench : IAsyncDisposable
{
    private const double DueFraction = 0.01;
    private const int Tenants = 4;
    private readonly IHost _host;
    private readonly NpgsqlDataSource _dataSource;
    private int _rows;

    private DispatchBench(IHost host)
    {
        _host = host;
        _dataSource = host.Services.GetRequiredService<NpgsqlDataSource>();
    }

    /// <summary><c>dispatch [--sizes 10000,1000000]</c>: the table grows through each size in turn, measured at each.</summary>
    public static async Task<int> CommandAsync(string repo, string[] args)
    {
        var at = Array.IndexOf(args, "--sizes");
        var sizes = (at >= 0 && at + 1 < args.Length ? args[at + 1] : "10000,1000000")
            .Split(',').Select(s => int.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture)).Order().ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Aggregator dispatch benchmark — {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DueFraction:P0} of connections due, {Tenants} tenants"));
        await using var database = await BenchDatabase.StartAsync(repo);
        using var keyRing = new KeyRingCertificate();
        await using var bench = await PrepareAsync(database.ConnectionString, keyRing.Path);
        Console.WriteLine($"Database ready and migrated ({database.Description})");
        bench.EnqueueAlone(10, oneTransaction: false); // warm-up
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Hangfire enqueue, each job in its own transaction (how the dispatcher queued jobs before, after committing its runs): {bench.EnqueueAlone(1000, oneTransaction: false):N0} jobs/s"));
        foreach (var size in sizes)
        {
            // At least about 2,000 claims each way per size, so that small tables are not measured on one batch.
            var due = (int)(size * DueFraction);
            await bench.RunAsync(size, Math.Max(1, (int)Math.Ceiling(2000.0 / Math.Max(1, due))));
        }

        return 0;
    }

    public static async Task<DispatchBench> PrepareAsync(string connectionString, string keyRingCertificatePath)
    {
        var host = BenchHost.Build(connectionString, keyRingCertificatePath);
        await host.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(CancellationToken.None);

        await using var db = AggregatorDbContext.ForSystem(host.Services.GetRequiredService<NpgsqlDataSource>());
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < Tenants; i++)
        {
            db.Tenants.Add(new Tenant { Id = Guid.CreateVersion7(), Name = $"Dispatch {i}", SyncInterval = TimeSpan.FromHours(12), CreatedAt = now });
        }

        db.Providers.Add(new Provider
        {
            Id = Guid.CreateVersion7(), Slug = "bench-dispatch", Name = "Bench (dispatch)", Brand = "Bench", FhirVersion = FhirVersion.R4,
            FhirBaseUrl = "https://bench.example/fhir/r4/", Origin = "bench", CreatedAt = now, UpdatedAt = now,
        });
        await db.SaveChangesAsync();
        return new DispatchBench(host);
    }

    /// <summary>Grows the table to <paramref name="rows"/> connections, then measures both ways, <paramref name="rounds"/> times each, alternating.</summary>
    public async Task RunAsync(int rows, int rounds)
    {
        var stopwatch = Stopwatch.StartNew();
        await GrowAsync(rows);
        var grown = stopwatch.Elapsed.TotalSeconds;
        var ours = new List<(int Claims, double Seconds)>();
        var ceiling = new List<(int Claims, double Seconds)>();
        for (var round = 0; round < rounds; round++)
        {
            await MakeDueAsync();
            ceiling.Add(await BareClaimAsync());
            await MakeDueAsync();
            ours.Add(await DispatchAsync());
        }

        var enqueueRate = EnqueueAlone(2000, oneTransaction: true);
        var oursRate = ours.Sum(r => r.Claims) / ours.Sum(r => r.Seconds);
        var ceilingRate = ceiling.Sum(r => r.Claims) / ceiling.Sum(r => r.Seconds);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Dispatch, {rows:N0} connections ({ours[0].Claims:N0} due, {rounds} rounds; table made in {grown:0.0} s): dispatcher {oursRate:N0} claims/s; " +
            $"bare claim + INSERT, no jobs {ceilingRate:N0} claims/s (ratio {oursRate / ceilingRate:0.00}); " +
            $"Hangfire enqueue alone in one transaction {enqueueRate:N0} jobs/s (ratio {oursRate / enqueueRate:0.00})"));
        Console.WriteLine("  claim plan: " + await PlanAsync());
    }

    /// <summary>Adds connections (and their patients) numbered from the current size up to <paramref name="rows"/>, spread over the tenants.</summary>
    private async Task GrowAsync(int rows)
    {
        if (rows <= _rows)
        {
            return;
        }

        await using var connection = await _dataSource.OpenConnectionAsync();
        await ExecuteAsync(connection, "SELECT set_config('app.all_tenants', 'on', false)");
        // The rows are valid by construction: their foreign keys are not checked one by one (a million lookups).
        await ExecuteAsync(connection, "SET session_replication_role = replica");
        await ExecuteAsync(connection, $"""
            WITH t AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM tenants WHERE name LIKE 'Dispatch %'),
                 n AS (SELECT g FROM generate_series({_rows}, {rows - 1}) g)
            INSERT INTO patients (id, tenant_id, external_id, created_at, record_version, event_sequence)
            SELECT md5('patient' || g)::uuid, t.id, 'bench-' || g, now(), 0, 0 FROM n JOIN t ON t.k = g % {Tenants}
            """);
        await ExecuteAsync(connection, $"""
            INSERT INTO connections (id, tenant_id, patient_id, provider_id, status, provider_patient_id, granted_scopes, confirmed_at, next_sync_at, created_at, updated_at)
            SELECT md5('connection' || g)::uuid, p.tenant_id, p.id, (SELECT id FROM providers WHERE slug = 'bench-dispatch'), 'Active', 'p' || g, '',
                   now(), now() + interval '1 minute' + random() * interval '12 hours', now(), now()
            FROM generate_series({_rows}, {rows - 1}) g JOIN patients p ON p.id = md5('patient' || g)::uuid
            """);
        await ExecuteAsync(connection, "SET session_replication_role = origin");
        await ExecuteAsync(connection, "VACUUM ANALYZE connections");
        await ExecuteAsync(connection, "VACUUM ANALYZE patients");
        _rows = rows;
    }

    /// <summary>Every hundredth connection due (in the last hour), the rest later: the same rows each round.</summary>
    private async Task MakeDueAsync()
    {
        await using var connection = await _dataSource.OpenConnectionAsync();
        await ExecuteAsync(connection, "SELECT set_config('app.all_tenants', 'on', false)");
        await ExecuteAsync(connection, $"""
            UPDATE connections SET next_sync_at = now() - interval '1 minute' - random() * interval '1 hour'
            WHERE substr(provider_patient_id, 2)::int % {(int)(1 / DueFraction)} = 0 AND next_sync_at > now()
            """);
    }

    /// <summary>The real dispatcher, as its recurring job runs it.</summary>
    private async Task<(int, double)> DispatchAsync()
    {
        var stopwatch = Stopwatch.StartNew();
        await using var scope = _host.Services.CreateAsyncScope();
        var claimed = await scope.ServiceProvider.GetRequiredService<SyncDispatcher>().DispatchAsync(CancellationToken.None);
        return (claimed, stopwatch.Elapsed.TotalSeconds);
    }

    /// <summary>The ceiling: the dispatcher's claim statement and a plain INSERT of its runs, per batch of the same size, no EF, no jobs.</summary>
    private async Task<(int, double)> BareClaimAsync()
    {
        var batch = new SyncOptions().DispatchBatchSize;
        var stopwatch = Stopwatch.StartNew();
        var total = 0;
        await using var connection = await _dataSource.OpenConnectionAsync();
        await ExecuteAsync(connection, "SELECT set_config('app.all_tenants', 'on', false)");
        while (true)
        {
            await using var transaction = await connection.BeginTransactionAsync();
            await using var command = new NpgsqlCommand($"""
                WITH due AS (
                    SELECT c.id FROM connections c
                    WHERE c.status = 'Active' AND c.next_sync_at <= now()
                      AND c.tenant_id = ANY (ARRAY(SELECT id FROM tenants WHERE status = 'Active'))
                    ORDER BY c.next_sync_at
                    LIMIT {batch}
                    FOR UPDATE OF c SKIP LOCKED),
                claimed AS (
                    UPDATE connections c
                    SET next_sync_at = now() + t.sync_interval * (0.9 + random() * 0.2)
                    FROM due, tenants t
                    WHERE c.id = due.id AND t.id = c.tenant_id
                    RETURNING c.id, c.tenant_id)
                INSERT INTO sync_runs (id, tenant_id, connection_id, status, trigger, full_sync, queued_at, pages, bytes)
                SELECT gen_random_uuid(), tenant_id, id, 'Queued', 'Scheduled', false, now(), 0, 0 FROM claimed
                """, connection, transaction);
            var claimed = await command.ExecuteNonQueryAsync();
            await transaction.CommitAsync();
            total += claimed;
            if (claimed < batch)
            {
                return (total, stopwatch.Elapsed.TotalSeconds);
            }
        }
    }

    /// <summary>
    /// What Hangfire's enqueue costs by itself (jobs for no run; no server here to take them): each job in its own
    /// transaction, as Hangfire does when left alone, or all in one <see cref="JobTransaction"/>, as the dispatcher does.
    /// </summary>
    public double EnqueueAlone(int jobs, bool oneTransaction)
    {
        var client = _host.Services.GetRequiredService<IBackgroundJobClient>();
        var stopwatch = Stopwatch.StartNew();
        using (var transaction = oneTransaction ? JobTransaction.Begin() : null)
        {
            for (var i = 0; i < jobs; i++)
            {
                var runId = Guid.CreateVersion7();
                client.Enqueue<SyncConnectionJob>(JobQueues.Sync, job => job.RunAsync(runId, CancellationToken.None));
            }

            transaction?.Complete();
        }

        return jobs / stopwatch.Elapsed.TotalSeconds;
    }

    /// <summary>The claim's plan as PostgreSQL runs it now (node names only, with the index it uses).</summary>
    private async Task<string> PlanAsync()
    {
        await MakeDueAsync();
        await using var connection = await _dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand($"""
            EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON)
            SELECT c.id FROM connections c
            WHERE c.status = 'Active' AND c.next_sync_at <= now()
              AND c.tenant_id = ANY (ARRAY(SELECT id FROM tenants WHERE status = 'Active'))
            ORDER BY c.next_sync_at
            LIMIT {new SyncOptions().DispatchBatchSize}
            FOR UPDATE OF c SKIP LOCKED
            """, connection, transaction);
        var lines = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                lines.Add(reader.GetString(0).Trim());
            }
        }

        await transaction.RollbackAsync();
        var nodes = lines.Where(l => l.Contains("Scan", StringComparison.Ordinal) || l.StartsWith("->", StringComparison.Ordinal) || l.StartsWith("Execution", StringComparison.Ordinal) || l.StartsWith("Limit", StringComparison.Ordinal))
            .Select(l => l.TrimStart('-', '>', ' '));
        return string.Join(" | ", nodes);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 600 };
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        _host.Dispose();
        await Task.CompletedTask;
    }
}
