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
    DatabaseRoles roles,
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

    /// <summary>Migrates now, as the owner role; used by the start-up path and by the <c>migrate</c> command.</summary>
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        var dataSource = roles.Owner;
        // Migrations may move data: they act for every tenant, whatever the owner role is.
        await using (var db = AggregatorDbContext.ForSystem(dataSource))
        {
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

        if (roles.AppRole is { } appRole)
        {
            await GrantAsync(dataSource, appRole, options.Value.HangfireSchema, cancellationToken);
        }

        await WarnIfUnprotectedAsync(cancellationToken);

        await using (var scope = scopes.CreateAsyncScope())
        {
            using var system = scope.ServiceProvider.GetRequiredService<Tenants.CurrentTenant>().ActAsSystem();
            foreach (var seeder in scope.ServiceProvider.GetServices<IDatabaseSeeder>())
            {
                await seeder.SeedAsync(cancellationToken);
            }
        }

        await RebuildOutdatedRecordsAsync(cancellationToken);
        state.MarkMigrated();
        LogMigrated(logger);
    }

    /// <summary>
    /// Records built in an older read model format are built again in the current one before anything serves them (a
    /// migration that changes the read model resets <c>record_model</c>).
    /// </summary>
    private async Task RebuildOutdatedRecordsAsync(CancellationToken cancellationToken)
    {
        List<Guid> outdated;
        await using (var db = AggregatorDbContext.ForSystem(roles.Owner))
        {
            outdated = await db.Patients.Where(p => p.RecordModel < Domain.Records.RecordItem.Model).Select(p => p.Id).ToListAsync(cancellationToken);
        }

        if (outdated.Count == 0)
        {
            return;
        }

        LogRebuildingRecords(logger, outdated.Count, Domain.Records.RecordItem.Model);
        foreach (var patientId in outdated)
        {
            await using var scope = scopes.CreateAsyncScope();
            using var system = scope.ServiceProvider.GetRequiredService<Tenants.CurrentTenant>().ActAsSystem();
            try
            {
                foreach (var rebuilder in scope.ServiceProvider.GetServices<Sync.IRecordRebuilder>())
                {
                    await rebuilder.RebuildAsync(patientId, cancellationToken);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // One record that cannot be built must not keep every other patient's service down: it keeps its older
                // form (and is built again by its next sync, or at the next start).
                LogRecordNotRebuilt(logger, patientId, ex.GetType().Name);
            }
        }
    }

    /// <summary>
    /// The services' role may read and write every table (row-level security decides which rows), and no more: it
    /// owns nothing, so it cannot alter a table or turn its policies off; it reads the migrations history only.
    /// </summary>
    private static async Task GrantAsync(NpgsqlDataSource owner, string appRole, string hangfireSchema, CancellationToken cancellationToken)
    {
        var role = Quote(appRole);
        var schemas = $"public, {Quote(hangfireSchema)}";
        await using var command = owner.CreateCommand($"""
            GRANT USAGE ON SCHEMA {schemas} TO {role};
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schemas} TO {role};
            GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schemas} TO {role};
            REVOKE INSERT, UPDATE, DELETE ON {AggregatorDbContext.MigrationsHistoryTable} FROM {role};
            """);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>Says so when the services' role is beyond row-level security's reach (a superuser, BYPASSRLS, or the tables' owner).</summary>
    private async Task WarnIfUnprotectedAsync(CancellationToken cancellationToken)
    {
        await using var command = roles.App.CreateCommand("""
            SELECT r.rolsuper OR r.rolbypassrls,
                   EXISTS (SELECT 1 FROM pg_class c WHERE c.relowner = r.oid AND c.relnamespace = 'public'::regnamespace)
            FROM pg_roles r WHERE r.rolname = current_user
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (await reader.ReadAsync(cancellationToken) && (reader.GetBoolean(0) || reader.GetBoolean(1)))
        {
            LogUnprotected(logger, reader.GetBoolean(0) ? "bypasses row-level security" : "owns the tables");
        }
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Building {Count} patients' records again in read model {Model}")]
    private static partial void LogRebuildingRecords(ILogger logger, int count, int model);

    [LoggerMessage(Level = LogLevel.Error, Message = "The record of patient {PatientId} could not be built in the current read model ({ErrorType}); it keeps its older form")]
    private static partial void LogRecordNotRebuilt(ILogger logger, Guid patientId, string errorType);

    [LoggerMessage(Level = LogLevel.Information, Message = "Database schema is up to date")]
    private static partial void LogMigrated(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The services' database role {Reason}: tenant isolation rests on the application alone. Connect as an ordinary role and migrate with ConnectionStrings:AggregatorOwner (see the README).")]
    private static partial void LogUnprotected(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database not migrated yet ({ErrorType}: {Reason}); retrying")]
    private static partial void LogNotYet(ILogger logger, string errorType, string reason);
}
