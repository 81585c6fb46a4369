using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Aggregator.Sandbox.Tests.Hosting;

namespace Aggregator.Sandbox.Tests.OAuth;

/// <summary>With <c>Sandbox:StorePath</c>, grants outlive the process, as a demo's connections should.</summary>
public sealed class StoreFileTests
{
    [Fact]
    public async Task Tokens_issued_before_a_restart_still_work_after_it()
    {
        using var data = new CraftedData();
        var folder = Path.Combine(Path.GetTempPath(), "sandbox-store-" + Guid.NewGuid().ToString("N"));
        var settings = new Dictionary<string, string?>
        {
            ["Sandbox:DataDir"] = data.Directory,
            ["Sandbox:TestApi"] = "true",
            ["Sandbox:StorePath"] = Path.Combine(folder, "oauth.db"),
        };
        var port = FreePort();
        try
        {
            TokenResponse tokens;
            await using (var first = await SandboxServer.StartAsync(settings, port: port, cancellationToken: TestContext.Current.CancellationToken))
            {
                var patient = await first.TestPatientAsync("nextgen", "r4", CraftedData.PatientUuid);
                tokens = await new SmartApp(first, SandboxClient.Confidential("nextgen"))
                    .SignInAsync(first.FhirBase("nextgen", "r4"), patient, "launch/patient offline_access patient/*.read");
            }

            await using var second = await SandboxServer.StartAsync(settings, port: port, cancellationToken: TestContext.Current.CancellationToken);
            using var fhir = second.CreateClient();
            fhir.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
            var read = await fhir.GetJsonAsync(new Uri(second.FhirBase("nextgen", "r4"), $"Patient/{CraftedData.PatientUuid}"));
            var refreshed = await new SmartApp(second, SandboxClient.Confidential("nextgen")).RefreshAsync(tokens.RefreshToken!);

            Assert.Equal(CraftedData.PatientUuid, (string?)read["id"]);
            Assert.Equal(HttpStatusCode.OK, refreshed.Status);
            Assert.True(File.Exists(Path.Combine(folder, "oauth.db")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
