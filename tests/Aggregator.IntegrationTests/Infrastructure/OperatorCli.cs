using System.Diagnostics;

namespace Aggregator.IntegrationTests.Infrastructure;

/// <summary>Runs the Api's operator commands as a real process against a test database.</summary>
public static class OperatorCli
{
    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string connectionString, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Aggregator.Api.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // As an operator's deployment would: commands act as the services' ordinary role; the owner migrates.
        start.Environment["ConnectionStrings__Aggregator"] = PostgresServer.AsApp(connectionString);
        start.Environment["ConnectionStrings__AggregatorOwner"] = connectionString;
        start.Environment["DOTNET_ENVIRONMENT"] = "Development";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The last line of standard output (where commands print a new key).</summary>
    public static string LastLine(string stdout) => stdout.TrimEnd().Split('\n')[^1].Trim();
}
