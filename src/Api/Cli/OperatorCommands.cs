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
    private static readonly string[] Commands = ["migrate"];

    public static bool IsCommand(string[] args) => args.Length > 0 && Commands.Contains(args[0]);

    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var builder = Host.CreateApplicationBuilder(args.Skip(1).ToArray());
        builder.AddServiceDefaults(logToStandardError: true);
        if (!builder.TryAddInfrastructure(migrateOnStartup: false))
        {
            return 1;
        }

        using var host = builder.Build();
        switch (args[0])
        {
            case "migrate":
                await host.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(CancellationToken.None);
                await Console.Out.WriteLineAsync("migrated");
                return 0;
            default:
                return 2;
        }
    }
}
