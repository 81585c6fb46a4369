using Aggregator.Domain.Patients;
using Aggregator.Domain.Tenants;
using Aggregator.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Aggregator.IntegrationTests.Foundation;

public sealed class MigrationTests(PostgresServer server)
{
    private static readonly string[] DataModelTables =
    [
        "tenants", "api_keys", "patients", "providers", "client_registrations", "connections", "auth_requests",
        "source_resources", "sync_runs", "record_items", "audit_events", "webhook_deliveries",
    ];

    [Fact]
    public async Task Migrations_turn_an_empty_database_into_the_whole_data_model_and_hangfire_schema()
    {
        var connectionString = await server.CreateEmptyDatabaseAsync("empty_migrate");

        await PostgresServer.MigrateAsync(connectionString);

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        var tables = await ReadStringsAsync(connection, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
        Assert.Superset(DataModelTables.ToHashSet(), tables.ToHashSet());
        var hangfireTables = await ReadStringsAsync(connection, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'hangfire'");
        Assert.Contains("job", hangfireTables);
        Assert.Contains("jobqueue", hangfireTables);
    }

    [Fact]
    public async Task The_first_start_on_an_empty_database_becomes_ready_and_logs_no_error()
    {
        var connectionString = await server.CreateEmptyDatabaseAsync("first_start");
        await using var api = HostProcess.Start("Aggregator.Api.dll", new Dictionary<string, string?>
        {
            ["ConnectionStrings__Aggregator"] = connectionString,
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Worker__InProcess"] = "false",
        });

        Assert.True(await api.ReadyAsync(TimeSpan.FromSeconds(60)), string.Join('\n', api.Output));
        var output = api.Output;
        Assert.Contains(output, line => line.Contains("migrations", StringComparison.OrdinalIgnoreCase));
        Assert.False(output.Any(line => line.Contains(" ERR]", StringComparison.Ordinal) || line.Contains(" FTL]", StringComparison.Ordinal)), string.Join('\n', output));
    }

    [Fact]
    public async Task Migrating_twice_changes_nothing()
    {
        var connectionString = await server.CreateEmptyDatabaseAsync("migrate_twice");
        await PostgresServer.MigrateAsync(connectionString);

        await PostgresServer.MigrateAsync(connectionString);

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        var applied = await ReadStringsAsync(connection, "SELECT migration_id FROM __ef_migrations_history");
        Assert.Equal(applied.Count, applied.Distinct().Count());
    }

    [Fact]
    public async Task The_model_has_no_changes_missing_from_the_migrations()
    {
        var database = new TestDatabase(server);
        await database.InitializeAsync();
        await using var db = database.CreateContext();

        Assert.False(db.Database.HasPendingModelChanges(), "The EF model differs from the last migration: run `dotnet ef migrations add`.");
        Assert.Empty(await db.Database.GetPendingMigrationsAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_patient_external_id_is_unique_per_tenant_only()
    {
        var database = new TestDatabase(server);
        await database.InitializeAsync();
        var ct = TestContext.Current.CancellationToken;
        var tenantA = new Tenant { Id = Guid.NewGuid(), Name = "A", CreatedAt = DateTimeOffset.UtcNow };
        var tenantB = new Tenant { Id = Guid.NewGuid(), Name = "B", CreatedAt = DateTimeOffset.UtcNow };
        await using (var db = database.CreateContext())
        {
            db.Tenants.AddRange(tenantA, tenantB);
            db.Patients.AddRange(
                new Patient { Id = Guid.NewGuid(), TenantId = tenantA.Id, ExternalId = "p-1", CreatedAt = DateTimeOffset.UtcNow },
                new Patient { Id = Guid.NewGuid(), TenantId = tenantB.Id, ExternalId = "p-1", CreatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync(ct);
        }

        await using (var db = database.CreateContext())
        {
            db.Patients.Add(new Patient { Id = Guid.NewGuid(), TenantId = tenantA.Id, ExternalId = "p-1", CreatedAt = DateTimeOffset.UtcNow });
            var duplicate = await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync(ct));
            Assert.Equal(PostgresErrorCodes.UniqueViolation, Assert.IsType<PostgresException>(duplicate.InnerException).SqlState);
        }
    }

    private static async Task<List<string>> ReadStringsAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }
}
