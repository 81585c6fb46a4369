using Aggregator.Api;
using Aggregator.Worker;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.IntegrationTests.Infrastructure;

/// <summary>The Api in-process against one test database; settings are passed as host settings.</summary>
public sealed class ApiFactory(
    string connectionString,
    IReadOnlyDictionary<string, string?>? settings = null,
    Action<IServiceCollection>? configureServices = null)
    : WebApplicationFactory<ApiEntryPoint>
{
    /// <summary>The redirect_uri base the sandbox sees; the tests' browser hands the callback to this in-process Api.</summary>
    public const string PublicBaseUrl = "http://127.0.0.1:5999";

    public string ConnectionString { get; } = connectionString;

    /// <summary>Set when the Api runs on real Kestrel (browser tests): where it listens.</summary>
    public Uri? LiveUrl { get; set; }

    /// <summary>A client that delivers a provider's redirect to this Api as a browser would, without following ours.</summary>
    public HttpClient CreateBrowserClient() => LiveUrl is { } live
        ? new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = live }
        : CreateClient(new() { AllowAutoRedirect = false });

    /// <summary>An Api whose directory holds the sandbox's personas; with <paramref name="jobServer"/>, it runs the sync jobs too.</summary>
    public static ApiFactory WithSandbox(
        string connectionString, SandboxProvider sandbox, Action<IServiceCollection>? configureServices = null, bool jobServer = false,
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        var all = new Dictionary<string, string?>
        {
            ["Sandbox:BaseUrl"] = sandbox.Root.AbsoluteUri,
            ["Api:PublicBaseUrl"] = PublicBaseUrl,
            ["Worker:InProcess"] = jobServer ? "true" : "false",
            // Tests ask for syncs back to back and wait on faults without real sleeps.
            ["Sync:ManualCooldown"] = "00:00:00",
            ["Sync:MaxRetryAfter"] = "00:00:00.200",
            ["Sync:FirstBackoff"] = "00:00:00.050",
            // Tests burst on purpose (hundreds of reads at once); RateLimitTests sets its own limits.
            ["RateLimits:PerTenantPerSecond"] = "100000",
            ["RateLimits:AnonymousPerIpPerSecond"] = "100000",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        return new ApiFactory(connectionString, all, configureServices);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        // As in production: the services connect as an ordinary role under row-level security; the owner migrates.
        builder.UseSetting("ConnectionStrings:Aggregator", PostgresServer.AsApp(ConnectionString));
        builder.UseSetting("ConnectionStrings:AggregatorOwner", ConnectionString);
        builder.UseSetting("Worker:InProcess", "false");
        builder.UseSetting("Worker:PollInterval", "00:00:00.500");
        TestLogging.Quiet(builder);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }

        if (configureServices is not null)
        {
            builder.ConfigureTestServices(configureServices);
        }
    }
}

/// <summary>A Worker host (Hangfire server) in-process against one test database.</summary>
public sealed class WorkerFactory(string connectionString) : WebApplicationFactory<WorkerEntryPoint>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("ConnectionStrings:Aggregator", PostgresServer.AsApp(connectionString));
        builder.UseSetting("Worker:PollInterval", "00:00:01");
        TestLogging.Quiet(builder);
    }
}

/// <summary>Hosts under test log warnings and errors only, so a failing test's output stays readable.</summary>
internal static class TestLogging
{
    public static void Quiet(IWebHostBuilder builder)
    {
        builder.UseSetting("Serilog:MinimumLevel:Default", Environment.GetEnvironmentVariable("TEST_LOG_LEVEL") ?? "Warning");
        builder.UseSetting("Serilog:MinimumLevel:Override:Hangfire", "Warning");
        builder.UseSetting("Serilog:MinimumLevel:Override:Microsoft.Hosting.Lifetime", "Warning");
        builder.UseSetting("Serilog:MinimumLevel:Override:Aggregator", "Warning");
    }
}
