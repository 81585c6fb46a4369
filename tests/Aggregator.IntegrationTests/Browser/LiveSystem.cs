using System.Net;
using System.Net.Sockets;
using System.Net.Http.Json;
using Aggregator.IntegrationTests.Infrastructure;
using Aggregator.Web;
using Hangfire;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serilog.Core;

namespace Aggregator.IntegrationTests.Browser;

/// <summary>
/// What a patient's browser reaches: the Api and the web app on real Kestrel at 127.0.0.1 (the sandbox is
/// already there), over one test class's database, with a tenant "Coral Health" that registered the return url.
/// </summary>
public sealed class LiveSystem(PostgresServer server, SandboxProvider sandbox, bool verboseLogs = false) : IAsyncLifetime
{
    /// <summary>
    /// With verbose logs, both hosts log at debug level and ask for the framework's chattiest categories too (request
    /// starts with their query strings, HttpClient urls), so that a test can show that none of them carries a secret.
    /// </summary>
    private static readonly Dictionary<string, string?> VerboseLevels = new()
    {
        ["Serilog:MinimumLevel:Default"] = "Debug",
        ["Serilog:MinimumLevel:Override:Aggregator"] = "Debug",
        ["Serilog:MinimumLevel:Override:Microsoft.AspNetCore"] = "Information",
        ["Serilog:MinimumLevel:Override:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Debug",
        ["Serilog:MinimumLevel:Override:Microsoft.Extensions.Http"] = "Debug",
        ["Serilog:MinimumLevel:Override:System.Net.Http"] = "Debug",
        ["Serilog:MinimumLevel:Override:Hangfire"] = "Information",
    };

    /// <summary>The partner's return url; the browser test answers it itself (it is not a real site).</summary>
    public const string ReturnUrl = "https://coral.example/connected";

    public TestDatabase Database { get; } = new(server);

    public SandboxProvider Sandbox { get; } = sandbox;

    public ApiFactory Api { get; private set; } = null!;

    public WebFactory Web { get; private set; } = null!;

    public Uri ApiUrl { get; private set; } = null!;

    public Uri WebUrl { get; private set; } = null!;

    public HttpClient Tenant { get; private set; } = null!;

    /// <summary>What the Api, its in-process Worker and the web app logged (at their usual levels and above).</summary>
    public CapturedLogs Logs { get; } = new();

    public Aggregator.Infrastructure.Tenants.IssuedApiKey TenantKey { get; private set; } = null!;

    /// <summary>A patient session token, as the tenant's backend mints one for its frontend.</summary>
    public async Task<string> SessionTokenAsync(Guid patientId)
    {
        var minted = await Tenant.PostAsJsonAsync(new Uri($"/v1/patients/{patientId}/session-tokens", UriKind.Relative), new { lifetimeMinutes = 60 });
        return (await minted.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("token").GetString()!;
    }

    public async ValueTask InitializeAsync()
    {
        await Database.InitializeAsync();
        var (apiPort, webPort) = TwoFreePorts();
        ApiUrl = new Uri($"http://127.0.0.1:{apiPort}/");
        WebUrl = new Uri($"http://127.0.0.1:{webPort}/");
        var apiSettings = new Dictionary<string, string?>(verboseLogs ? VerboseLevels : [])
        {
            ["Api:PublicBaseUrl"] = ApiUrl.AbsoluteUri.TrimEnd('/'),
            ["Api:WebBaseUrl"] = WebUrl.AbsoluteUri.TrimEnd('/'),
        };
        Api = await StartOnKestrelAsync(() => ApiFactory.WithSandbox(Database.ConnectionString, Sandbox, services =>
        {
            services.AddSingleton<ILogEventSink>(Logs);
            // A job stops at its next await once asked; on a loaded machine that can take longer than the default 30 s.
            services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(90));
        }, jobServer: true, settings: apiSettings), api =>
        {
            api.UseKestrel(apiPort);
            api.StartServer();
        });
        Api.ClientOptions.BaseAddress = ApiUrl;
        Api.LiveUrl = ApiUrl;
        // The companion app is the tenant's own app: its return url is registered, and it holds the tenant's key.
        (Tenant, TenantKey) = await Api.CreateTenantClientAsync("Coral Health", ReturnUrl, new Uri(WebUrl, "app/connected").AbsoluteUri);
        Web = await StartOnKestrelAsync(() => new WebFactory(ApiUrl, TenantKey.Key, Logs, verboseLogs ? VerboseLevels : null), web =>
        {
            web.UseKestrel(webPort);
            web.StartServer();
        });
    }

    /// <summary>
    /// Starts an app on real Kestrel (<paramref name="start"/> picks the port). WebApplicationFactory sets the port while the app's own
    /// entry point runs on to <c>Run()</c>; now and then the server starts first and the factory throws. A new factory
    /// then tries again (a test harness race, not the app's).
    /// </summary>
    internal static async Task<TFactory> StartOnKestrelAsync<TFactory>(Func<TFactory> create, Action<TFactory> start) where TFactory : IAsyncDisposable
    {
        for (var attempt = 1; ; attempt++)
        {
            var factory = create();
            try
            {
                start(factory);
                return factory;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                await factory.DisposeAsync();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Web.DisposeAsync();
        // What the Api's job server is doing as it is asked to stop: if it cannot stop, the failure says which job held it.
        var processing = Api.Services.GetRequiredService<JobStorage>().GetMonitoringApi().ProcessingJobs(0, 20)
            .Select(j => $"{j.Value.Job?.Type.Name}.{j.Value.Job?.Method.Name} since {j.Value.StartedAt:HH:mm:ss.fff}").ToList();
        try
        {
            await Api.DisposeAsync();
        }
        catch (OperationCanceledException stopping)
        {
            throw new InvalidOperationException(
                $"The Api did not stop in time. Jobs processing when it was asked: {(processing.Count == 0 ? "none" : string.Join("; ", processing))}. "
                + $"Its warnings: {string.Join(" | ", Logs.Texts().TakeLast(20))}", stopping);
        }

        await Database.DisposeAsync();
    }

    /// <summary>Two distinct free ports (both held while the second is chosen, so the system cannot hand out one twice).</summary>
    private static (int, int) TwoFreePorts()
    {
        using var first = new TcpListener(IPAddress.Loopback, 0);
        using var second = new TcpListener(IPAddress.Loopback, 0);
        first.Start();
        second.Start();
        return (((IPEndPoint)first.LocalEndpoint).Port, ((IPEndPoint)second.LocalEndpoint).Port);
    }
}

/// <summary>The web app (src/Web) in-process, pointed at an Api.</summary>
public sealed class WebFactory(Uri apiUrl, string tenantKey, ILogEventSink logs, IReadOnlyDictionary<string, string?>? logLevels = null)
    : WebApplicationFactory<WebEntryPoint>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.ConfigureServices(services => services.AddSingleton(logs));
        builder.UseSetting("Web:ApiBaseUrl", apiUrl.AbsoluteUri);
        builder.UseSetting("Web:ApiKey", tenantKey);
        builder.UseSetting("Serilog:MinimumLevel:Default", Environment.GetEnvironmentVariable("TEST_LOG_LEVEL") ?? "Warning");
        foreach (var (key, value) in logLevels ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }
    }
}
