using Aggregator.IntegrationTests.Infrastructure;
using Npgsql;

namespace Aggregator.IntegrationTests.Foundation;

public sealed class PostgresFixtureTests(PostgresServer server)
{
    [Fact]
    public async Task The_fixture_uses_the_first_available_source_and_the_server_answers()
    {
        var expected = !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(PostgresServer.ConnectionStringVariable))
            ? PostgresSource.ConnectionString
            : DockerEngineAnswers() ? PostgresSource.Testcontainers : PostgresSource.LocalCluster;

        await using var connection = new NpgsqlConnection(server.AdminConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);

        Assert.Equal(expected, server.Source);
        Assert.True(connection.PostgreSqlVersion.Major >= 15, $"PostgreSQL {connection.PostgreSqlVersion} is older than 15");
    }

    private static bool DockerEngineAnswers()
    {
        const string socket = "/var/run/docker.sock";
        if (!File.Exists(socket))
        {
            return false;
        }

        try
        {
            using var client = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
            client.Connect(new System.Net.Sockets.UnixDomainSocketEndPoint(socket));
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }
}
