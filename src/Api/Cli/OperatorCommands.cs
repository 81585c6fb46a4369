using System.CommandLine;
using Aggregator.Api.Providers;
using Aggregator.Api.Tenants;
using Aggregator.Infrastructure;
using Aggregator.Infrastructure.Hosting;
using Aggregator.Infrastructure.Persistence;

namespace Aggregator.Api.Cli;

/// <summary>
/// Operator commands run from the Api's build (<c>dotnet run --project src/Api -- COMMAND</c>).
/// They start no web server and no job server; results go to standard output, logs to standard error.
/// </summary>
public static class OperatorCommands
{
    private static readonly string[] Verbs = ["migrate", "tenants", "keys", "providers"];

    public static bool IsCommand(string[] args) => args.Length > 0 && Verbs.Contains(args[0]);

    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Aggregator operator commands");
        var migrate = new Command("migrate", "Apply pending database migrations (ours and Hangfire's) and exit.");
        migrate.SetAction((_, cancellationToken) => WithServicesAsync(services => MigrateAsync(services, cancellationToken), migrateFirst: false));
        root.Add(migrate);
        root.Add(TenantCommands.Create(WithServicesAsync));
        root.Add(TenantCommands.CreateKeyCommands(WithServicesAsync));
        root.Add(ProviderCommands.Create(WithServicesAsync));
        return await root.Parse(args).InvokeAsync();
    }

    private static async Task<int> MigrateAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await services.GetRequiredService<DatabaseMigrator>().MigrateAsync(cancellationToken);
        await Console.Out.WriteLineAsync("Database migrated.");
        return 0;
    }

    /// <summary>Builds a host without web or job server, migrates when the Api would, then runs the command in a scope.</summary>
    private static async Task<int> WithServicesAsync(Func<IServiceProvider, Task<int>> command, bool migrateFirst = true)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration["Serilog:MinimumLevel:Default"] ??= "Warning";
        builder.AddServiceDefaults(logToStandardError: true);
        if (!builder.TryAddInfrastructure(migrateOnStartup: false))
        {
            return 1;
        }

        using var host = builder.Build();
        try
        {
            if (migrateFirst && builder.Configuration.GetValue("Database:MigrateOnStartup", true))
            {
                await host.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(CancellationToken.None);
            }

            await using var scope = host.Services.CreateAsyncScope();
            // An operator acts for no tenant: the commands manage tenants, keys and the directory across all of them.
            scope.ServiceProvider.GetRequiredService<Infrastructure.Tenants.CurrentTenant>().ActAsSystemForScope();
            return await command(scope.ServiceProvider);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or Npgsql.NpgsqlException)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}");
            return 1;
        }
    }
}
