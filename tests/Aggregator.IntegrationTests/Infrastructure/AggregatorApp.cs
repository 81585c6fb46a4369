using Aggregator.Api;
using Aggregator.Worker;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Aggregator.IntegrationTests.Infrastructure;

/// <summary>The Api in-process against one test database; settings are passed as host settings.</summary>
public sealed class ApiFactory(string connectionString, IReadOnlyDictionary<string, string?>? settings = null)
    : WebApplicationFactory<ApiEntryPoint>
{
    public string ConnectionString { get; } = connectionString;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("ConnectionStrings:Aggregator", ConnectionString);
        builder.UseSetting("Worker:InProcess", "false");
        builder.UseSetting("Worker:PollInterval", "00:00:01");
        TestLogging.Quiet(builder);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }
    }
}

/// <summary>A Worker host (Hangfire server) in-process against one test database.</summary>
public sealed class WorkerFactory(string connectionString) : WebApplicationFactory<WorkerEntryPoint>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("ConnectionStrings:Aggregator", connectionString);
        builder.UseSetting("Worker:PollInterval", "00:00:01");
        TestLogging.Quiet(builder);
    }
}

/// <summary>Hosts under test log warnings and errors only, so a failing test's output stays readable.</summary>
internal static class TestLogging
{
    public static void Quiet(IWebHostBuilder builder)
    {
        builder.UseSetting("Serilog:MinimumLevel:Default", "Warning");
        builder.UseSetting("Serilog:MinimumLevel:Override:Hangfire", "Warning");
        builder.UseSetting("Serilog:MinimumLevel:Override:Microsoft.Hosting.Lifetime", "Warning");
        builder.UseSetting("Serilog:MinimumLevel:Override:Aggregator", "Warning");
    }
}
