using System.Net;
using Aggregator.Sandbox.Tests.Hosting;

namespace Aggregator.Sandbox.Tests;

public sealed class HealthTests(SamplesSandbox sandbox)
{
    [Fact]
    public async Task Ready_once_the_data_is_loaded()
    {
        using var client = sandbox.Server.CreateClient();

        using var ready = await client.GetAsync(new Uri("health/ready", UriKind.Relative), TestContext.Current.CancellationToken);
        using var live = await client.GetAsync(new Uri("health/live", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Fact]
    public async Task Never_ready_when_the_data_folder_does_not_exist_and_FHIR_answers_503_meanwhile()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-sandbox-data-" + Guid.NewGuid().ToString("N"));
        await using var sandboxWithoutData = await SandboxServer.StartAsync(
            new Dictionary<string, string?> { ["Sandbox:DataDir"] = missing, ["Sandbox:TestApi"] = "true" },
            waitUntilReady: false,
            cancellationToken: TestContext.Current.CancellationToken);
        using var client = sandboxWithoutData.CreateClient();

        await Task.Delay(TimeSpan.FromMilliseconds(500), TestContext.Current.CancellationToken);
        using var ready = await client.GetAsync(new Uri("health/ready", UriKind.Relative), TestContext.Current.CancellationToken);
        using var live = await client.GetAsync(new Uri("health/live", UriKind.Relative), TestContext.Current.CancellationToken);
        using var patients = await client.GetAsync(new Uri("_test/patients", UriKind.Relative), TestContext.Current.CancellationToken);
        using var search = await client.GetAsync(new Uri(sandboxWithoutData.FhirBase("nextgen", "r4"), "Patient"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, patients.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, search.StatusCode);
    }
}
