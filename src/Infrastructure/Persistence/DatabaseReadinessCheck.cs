using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Aggregator.Infrastructure.Persistence;

/// <summary>Ready means PostgreSQL answers and every migration this build knows is applied.</summary>
internal sealed class DatabaseReadinessCheck(
    NpgsqlDataSource dataSource,
    DatabaseState state,
    AggregatorDbContext db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken);

            if (!state.IsMigrated)
            {
                // Workers never migrate: they learn it from the database. Before the first migration there is no history
                // table to ask (a failed query would be logged as an error while the Api is still migrating).
                if (!await DatabaseMigrator.HistoryTableExistsAsync(dataSource, cancellationToken)
                    || (await db.Database.GetPendingMigrationsAsync(cancellationToken)).Any())
                {
                    return HealthCheckResult.Unhealthy("The database schema is not migrated yet.");
                }

                state.MarkMigrated();
            }

            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            // The reason stays in the logs; the health response names no host or SQL.
            return HealthCheckResult.Unhealthy("PostgreSQL is not reachable.", ex);
        }
    }
}
