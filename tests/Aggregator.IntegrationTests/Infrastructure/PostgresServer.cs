using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Aggregator.Infrastructure.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Testcontainers.PostgreSql;

[assembly: AssemblyFixture(typeof(Aggregator.IntegrationTests.Infrastructure.PostgresServer))]

namespace Aggregator.IntegrationTests.Infrastructure;

public enum PostgresSource
{
    ConnectionString,
    Testcontainers,
    LocalCluster,
}

/// <summary>
/// The one PostgreSQL server of this test run: an explicit connection string
/// (<c>AGGREGATOR_TEST_POSTGRES</c>), else a Testcontainers container when a Docker engine answers,
/// else a throwaway cluster from the machine's binaries. It migrates a template database once;
/// each test class then gets its own database cloned from it.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    public const string ConnectionStringVariable = "AGGREGATOR_TEST_POSTGRES";

    /// <summary>The role the hosts under test connect as: no superuser, owns nothing, so row-level security holds for it.</summary>
    public const string AppRole = "aggregator_app_test";

    // A role of a throwaway test server; local clusters trust loopback and ignore it.
    private const string AppRolePassword = "aggregator-app-test";
    private const string TemplateName = "aggregator_template";

    private PostgreSqlContainer? _container;
    private string? _clusterDir;
    private int _databases;

    public PostgresSource Source { get; private set; }

    /// <summary>A connection string to the server's maintenance database.</summary>
    public string AdminConnectionString { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        var explicitConnection = Environment.GetEnvironmentVariable(ConnectionStringVariable);
        if (!string.IsNullOrWhiteSpace(explicitConnection))
        {
            Source = PostgresSource.ConnectionString;
            AdminConnectionString = explicitConnection;
        }
        else if (await TryStartContainerAsync())
        {
            Source = PostgresSource.Testcontainers;
        }
        else
        {
            Source = PostgresSource.LocalCluster;
            await StartLocalClusterAsync();
        }

        await CreateTemplateAsync();
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }

        if (_clusterDir is not null)
        {
            await RunClusterScriptAsync("destroy", _clusterDir);
        }
    }

    /// <summary>The same database, as <see cref="AppRole"/> (how the Api and Workers connect in production).</summary>
    public static string AsApp(string ownerConnectionString) =>
        new NpgsqlConnectionStringBuilder(ownerConnectionString) { Username = AppRole, Password = AppRolePassword }.ConnectionString;

    /// <summary>A new database cloned from the migrated template; its connection string (as the owner).</summary>
    public async Task<string> CreateDatabaseAsync(string hint)
    {
        var name = $"t{Interlocked.Increment(ref _databases)}_{new string(hint.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).Take(40).ToArray())}";
        await using (var admin = new NpgsqlConnection(AdminConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\" TEMPLATE {TemplateName}", admin);
            await create.ExecuteNonQueryAsync();
        }

        return ForDatabase(name);
    }

    /// <summary>An empty database (no migrations), for tests of migrating itself.</summary>
    public async Task<string> CreateEmptyDatabaseAsync(string hint)
    {
        var name = $"e{Interlocked.Increment(ref _databases)}_{new string(hint.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).Take(40).ToArray())}";
        await using var admin = new NpgsqlConnection(AdminConnectionString);
        await admin.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", admin);
        await create.ExecuteNonQueryAsync();
        return ForDatabase(name);
    }

    private string ForDatabase(string name) =>
        new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, MaxPoolSize = 50 }.ConnectionString;

    private async Task CreateTemplateAsync()
    {
        await using (var admin = new NpgsqlConnection(AdminConnectionString))
        {
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {TemplateName} WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {TemplateName}", admin);
            await create.ExecuteNonQueryAsync();
            await using var role = new NpgsqlCommand($"""
                DO $$ BEGIN
                  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{AppRole}') THEN
                    CREATE ROLE {AppRole} LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD '{AppRolePassword}';
                  END IF;
                END $$;
                """, admin);
            await role.ExecuteNonQueryAsync();
        }

        // The migrator grants the app role its rights on the template; every clone inherits them.
        var templateConnection = ForDatabase(TemplateName);
        await MigrateAsync(templateConnection, AsApp(templateConnection));
        // A template cannot be cloned while anyone is connected to it.
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>Runs the same migrator the Api runs at start-up, as the owner; with <paramref name="appConnectionString"/>, it grants that role its rights.</summary>
    public static async Task MigrateAsync(string connectionString, string? appConnectionString = null)
    {
        await using var dataSource = NpgsqlDataSource.Create(appConnectionString ?? connectionString);
        await using var roles = new DatabaseRoles(dataSource, appConnectionString is null ? null : connectionString);
        var services = new ServiceCollection();
        Aggregator.Infrastructure.DependencyInjection.AddAggregatorDbContext(services, _ => dataSource);
        services.AddScoped<Aggregator.Infrastructure.Tenants.CurrentTenant>();
        await using var provider = services.BuildServiceProvider();
        var migrator = new DatabaseMigrator(
            provider.GetRequiredService<IServiceScopeFactory>(),
            roles,
            new DatabaseState(),
            Options.Create(new DatabaseOptions()),
            TimeProvider.System,
            NullLogger<DatabaseMigrator>.Instance);
        await migrator.MigrateAsync(CancellationToken.None);
    }

    private async Task<bool> TryStartContainerAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var container = new PostgreSqlBuilder("postgres:15-alpine").Build();
            await container.StartAsync(timeout.Token);
            _container = container;
            AdminConnectionString = container.GetConnectionString();
            return true;
        }
#pragma warning disable CA1031 // Any failure to reach Docker means: use the machine's binaries instead.
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }
    }

    private async Task StartLocalClusterAsync()
    {
        var script = Path.Combine(RepositoryPaths.Root, "deploy", "local", "pgcluster.sh");
        var (found, _) = await RunAsync("bash", script, "check");
        if (found != 0)
        {
            throw new InvalidOperationException(
                "No PostgreSQL for the tests: set " + ConnectionStringVariable + " to a server's connection string " +
                "(e.g. Host=127.0.0.1;Port=5432;Username=postgres;Password=...), start a Docker engine for Testcontainers, " +
                "or install the PostgreSQL server binaries (apt-get install postgresql).");
        }

        var port = FreePort();
        // Under the system temp folder, so that the unprivileged cluster owner can reach it even when the repo is private.
        _clusterDir = Path.Combine(Path.GetTempPath(), $"aggregator-tests-{Guid.NewGuid():N}");
        var (code, output) = await RunClusterScriptAsync("start", _clusterDir, port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (code != 0)
        {
            throw new InvalidOperationException($"The local PostgreSQL cluster did not start: {output}");
        }

        AdminConnectionString = $"Host=127.0.0.1;Port={port};Username=aggregator;Database=postgres;Pooling=true";
    }

    private static Task<(int Code, string Output)> RunClusterScriptAsync(params string[] args) =>
        RunAsync("bash", [Path.Combine(RepositoryPaths.Root, "deploy", "local", "pgcluster.sh"), .. args]);

    private static async Task<(int Code, string Output)> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // Fast, throwaway: durability is not what these tests are about. Test classes run in parallel, each with its own
        // Api, job server and pools, so the server allows more connections than a developer's cluster needs.
        start.Environment["PG_EXTRA_OPTS"] = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=1000";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, (await stdout) + (await stderr));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
