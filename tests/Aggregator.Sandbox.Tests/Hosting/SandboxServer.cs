using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Sandbox.Tests.Hosting;

/// <summary>
/// The sandbox running in-process on real Kestrel at <c>http://127.0.0.1:{random port}</c>, ready (data loaded)
/// when <see cref="StartAsync"/> returns. Other test projects can copy this file as is: it needs only a
/// reference to Aggregator.Sandbox and Microsoft.AspNetCore.Mvc.Testing.
/// </summary>
/// <example>
/// <code>
/// await using var sandbox = await SandboxServer.StartAsync(new Dictionary&lt;string, string?&gt;
/// {
///     ["Sandbox:DataDir"] = samplesFolder,
///     ["Sandbox:TestApi"] = "true",
/// });
/// var fhirBase = sandbox.FhirBase("nextgen", "r4"); // http://127.0.0.1:port/nextgen/fhir/r4/
/// </code>
/// </example>
public sealed class SandboxServer : IAsyncDisposable
{
    private readonly WebApplicationFactory<SandboxEntryPoint> _factory;

    private SandboxServer(WebApplicationFactory<SandboxEntryPoint> factory, Uri root)
    {
        _factory = factory;
        Root = root;
    }

    /// <summary>The sandbox root, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri Root { get; }

    public IServiceProvider Services => _factory.Services;

    /// <summary>Starts a sandbox with the given configuration (keys like <c>Sandbox:DataDir</c>) and waits until it is ready.</summary>
    /// <param name="configureServices">Replaces services after the sandbox registered its own, e.g. a fake <see cref="TimeProvider"/>.</param>
    /// <param name="port">A fixed port (to restart on the same URLs); 0 picks a free one.</param>
    public static async Task<SandboxServer> StartAsync(
        IReadOnlyDictionary<string, string?> settings,
        Action<IServiceCollection>? configureServices = null,
        bool waitUntilReady = true,
        int port = 0,
        CancellationToken cancellationToken = default)
    {
        var factory = new SandboxFactory(settings, configureServices);
        factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        factory.StartServer();
        var address = factory.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        var server = new SandboxServer(factory, new Uri(address.TrimEnd('/') + "/"));
        if (waitUntilReady)
        {
            await server.WaitUntilReadyAsync(cancellationToken);
        }

        return server;
    }

    /// <summary>A plain HTTP client on the sandbox root that does not follow redirects or keep cookies.</summary>
    public HttpClient CreateClient() =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = Root };

    /// <summary>A FHIR base with a trailing slash, e.g. <c>FhirBase("nextgen", "dstu2")</c>.</summary>
    public Uri FhirBase(string persona, string version) => new(Root, $"{persona}/fhir/{version}/");

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        using var client = CreateClient();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        while (true)
        {
            using var response = await client.GetAsync(new Uri("health/ready", UriKind.Relative), timeout.Token);
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), timeout.Token);
        }
    }

    private sealed class SandboxFactory(IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? configureServices)
        : WebApplicationFactory<SandboxEntryPoint>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("Logging:LogLevel:Default", "Warning");
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }

            if (configureServices is not null)
            {
                builder.ConfigureTestServices(configureServices);
            }
        }
    }
}
