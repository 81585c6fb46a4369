using Aggregator.Infrastructure;
using Aggregator.IntegrationTests.Infrastructure;
using Npgsql;

namespace Aggregator.IntegrationTests.Foundation;

/// <summary>Our hosts' connections keep the statements they run again and again prepared, unless the connection string says not to.</summary>
public sealed class PreparedStatementTests(PostgresServer server)
{
    [Fact]
    public async Task A_statement_run_again_and_again_is_prepared_once_on_the_connection()
    {
        Assert.True(await PreparedAfterRepeatsAsync(server.AdminConnectionString) > 0);
    }

    [Fact]
    public async Task A_connection_string_that_turns_preparation_off_is_obeyed()
    {
        Assert.Equal(0, await PreparedAfterRepeatsAsync(server.AdminConnectionString + ";Max Auto Prepare=0"));
    }

    private static async Task<long> PreparedAfterRepeatsAsync(string connectionString)
    {
        await using var dataSource = DependencyInjection.PreparingStatements(new NpgsqlDataSourceBuilder(connectionString)).Build();
        await using var connection = await dataSource.OpenConnectionAsync(TestContext.Current.CancellationToken);
        for (var i = 0; i < 10; i++)
        {
            await using var repeated = new NpgsqlCommand("SELECT count(*) FROM pg_class WHERE relname = @name", connection);
            repeated.Parameters.AddWithValue("name", "pg_type");
            Assert.Equal(1L, await repeated.ExecuteScalarAsync(TestContext.Current.CancellationToken));
        }

        await using var prepared = new NpgsqlCommand("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%relname = $1%'", connection);
        return (long)(await prepared.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }
}
