using System.Net;
using System.Net.Sockets;
using Aggregator.IntegrationTests.Infrastructure;
using Aggregator.Web;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Aggregator.IntegrationTests.Browser;

/// <summary>
/// What a patient's browser reaches: the Api and the web app on real Kestrel at 127.0.0.1 (the sandbox is
/// already there), over one test class's database, with a tenant "Coral Health" that registered the return url.
/// </summary>
public sealed class LiveSystem(PostgresServer server, SandboxProvider sandbox) : IAsyncLifetime
{
    /// <summary>The partner's return url; the browser test answers it itself (it is not a real site).</summary>
    public const string ReturnUrl = "https://coral.example/connected";

    public TestDatabase Database { get; } = new(server);

    public SandboxProvider Sandbox { get; } = sandbox;

    public ApiFactory Api { get; private set; } = null!;

    public WebFactory Web { get; private set; } = null!;

    public Uri ApiUrl { get; private set; } = null!;

    public Uri WebUrl { get; private set; } = null!;

    public HttpClient Tenant { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        await Database.InitializeAsync();
        var apiPort = FreePort();
        var webPort = FreePort();
        ApiUrl = new Uri($"http://127.0.0.1:{apiPort}/");
        WebUrl = new Uri($"http://127.0.0.1:{webPort}/");
        Api = ApiFactory.WithSandbox(Database.ConnectionString, Sandbox, jobServer: true, settings: new Dictionary<string, string?>
        {
            ["Api:PublicBaseUrl"] = ApiUrl.AbsoluteUri.TrimEnd('/'),
            ["Api:WebBaseUrl"] = WebUrl.AbsoluteUri.TrimEnd('/'),
        });
        Api.UseKestrel(apiPort);
        Api.StartServer();
        Api.ClientOptions.BaseAddress = ApiUrl;
        Api.LiveUrl = ApiUrl;
        Web = new WebFactory(ApiUrl);
        Web.UseKestrel(webPort);
        Web.StartServer();
        (Tenant, _) = await Api.CreateTenantClientAsync("Coral Health", ReturnUrl);
    }

    public async ValueTask DisposeAsync()
    {
        await Web.DisposeAsync();
        await Api.DisposeAsync();
        await Database.DisposeAsync();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The web app (src/Web) in-process, pointed at an Api.</summary>
public sealed class WebFactory(Uri apiUrl) : WebApplicationFactory<WebEntryPoint>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("Web:ApiBaseUrl", apiUrl.AbsoluteUri);
        builder.UseSetting("Serilog:MinimumLevel:Default", Environment.GetEnvironmentVariable("TEST_LOG_LEVEL") ?? "Warning");
    }
}
