using Hangfire.PostgreSql;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Aggregator.Infrastructure.Persistence;

/// <summary>
/// Applies our EF Core migrations and Hangfire's schema. One owner does this (the Api, or a
/// migration job); Workers never do. A database that is not there yet does not stop the host:
/// readiness stays 503 and the migration is retried until it succeeds.
/// </summary>
public sealed partial class DatabaseMigrator(
    IServiceScopeFactory scopes,
    NpgsqlDataSource dataSource,
    DatabaseState state,
    IOptions<DatabaseOptions> options,
    TimeProvider clock,
    ILogger<DatabaseMigrator> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(5);

    /// <summary>The first attempt holds up start-up, so a healthy database is migrated before anything serves.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await TryMigrateAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    /// <summary>Later attempts run in the background until one succeeds.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!state.IsMigrated && !stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(RetryDelay, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await TryMigrateAsync(stoppingToken);
        }
    }

    /// <summary>Whether the migrations history table exists, asked of the catalog (no failing query, so no error logged).</summary>
    internal static async Task<bool> HistoryTableExistsAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT to_regclass('{AggregatorDbContext.MigrationsHistoryTable}') IS NOT NULL");
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }

    /// <summary>Migrates now; used by the start-up path and by the <c>migrate</c> command.</summary>
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AggregatorDbContext>();
            // Create a missing database first: asking for its migrations would log a connection error.
            var creator = db.GetService<IRelationalDatabaseCreator>();
            if (!await creator.ExistsAsync(cancellationToken))
            {
                await creator.CreateAsync(cancellationToken);
            }

            // A database without the history table gets it first, empty: EF reads it before creating it, and that failed
            // read would be logged as an error on every first start.
            // (EF's own existence check is that failed read.)
            if (!await HistoryTableExistsAsync(dataSource, cancellationToken))
            {
                await db.Database.ExecuteSqlRawAsync(db.GetService<IHistoryRepository>().GetCreateIfNotExistsScript(), cancellationToken);
            }

            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count > 0)
            {
                LogApplying(logger, pending.Count);
                await db.Database.MigrateAsync(cancellationToken);
            }
        }

        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            // Hangfire's own installer takes an advisory lock, so concurrent starts are safe.
            PostgreSqlObjectsInstaller.Install(connection, options.Value.HangfireSchema);
        }

        await using (var scope = scopes.CreateAsyncScope())
        {
            foreach (var seeder in scope.ServiceProvider.GetServices<IDatabaseSeeder>())
            {
                await seeder.SeedAsync(cancellationToken);
            }
        }

        state.MarkMigrated();
        LogMigrated(logger);
    }

    private async Task<bool> TryMigrateAsync(CancellationToken cancellationToken)
    {
        try
        {
            await MigrateAsync(cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            LogNotYet(logger, ex.GetType().Name, ex.Message);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applying {Count} pending database migrations")]
    private static partial void LogApplying(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Database schema is up to date")]
    private static partial void LogMigrated(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database not migrated yet ({ErrorType}: {Reason}); retrying")]
    private static partial void LogNotYet(ILogger logger, string errorType, string reason);
}
