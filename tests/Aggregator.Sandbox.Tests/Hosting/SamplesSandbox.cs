[assembly: AssemblyFixture(typeof(Aggregator.Sandbox.Tests.Hosting.SamplesSandbox))]

namespace Aggregator.Sandbox.Tests.Hosting;

/// <summary>One sandbox for the whole assembly, serving every shared sample file, with the test API on.</summary>
public sealed class SamplesSandbox : IAsyncLifetime
{
    private SandboxServer? _server;

    public SandboxServer Server => _server ?? throw new InvalidOperationException("The sandbox has not started.");

    public async ValueTask InitializeAsync() =>
        _server = await SandboxServer.StartAsync(new Dictionary<string, string?>
        {
            ["Sandbox:DataDir"] = FhirSamples.Directory,
            ["Sandbox:TestApi"] = "true",
        });

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
