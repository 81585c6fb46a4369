using Hangfire.PostgreSql;
using Npgsql;

namespace Aggregator.Infrastructure.Jobs;

/// <summary>
/// Hangfire's connections from the process's one <see cref="NpgsqlDataSource"/> (one pool per process), so that a job
/// queued inside a <see cref="JobTransaction"/> shares the physical connection, and the transaction, of the rows
/// queued with it.
/// </summary>
internal sealed class DataSourceConnectionFactory(NpgsqlDataSource dataSource) : IConnectionFactory
{
    public NpgsqlConnection GetOrCreateConnection() => dataSource.CreateConnection();
}
