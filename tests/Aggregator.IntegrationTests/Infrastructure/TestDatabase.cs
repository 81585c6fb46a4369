using Aggregator.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Aggregator.IntegrationTests.Infrastructure;

/// <summary>A test class's own database, cloned from the migrated template.</summary>
public sealed class TestDatabase(PostgresServer server) : IAsyncLifetime
{
    private NpgsqlDataSource? _dataSource;

    public string ConnectionString { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        ConnectionString = await server.CreateDatabaseAsync("db");
        _dataSource = NpgsqlDataSource.Create(ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync();
        }
    }

    public AggregatorDbContext CreateContext()
    {
        var options = new DbContextOptionsBuilder<AggregatorDbContext>();
        AggregatorDbContext.Configure(options, _dataSource ?? throw new InvalidOperationException("Initialize the database first."));
        return new AggregatorDbContext(options.Options).For(Aggregator.Infrastructure.Tenants.CurrentTenant.ForSystem());
    }
}
