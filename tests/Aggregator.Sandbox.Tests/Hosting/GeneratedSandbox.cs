using System.Globalization;

namespace Aggregator.Sandbox.Tests.Hosting;

/// <summary>
/// A sandbox of a test class's own, with generated people only (no files: it starts in well under a second), for
/// tests that inject faults or change data and so must not share a sandbox with the read-only tests.
/// </summary>
public sealed class GeneratedSandbox : IAsyncLifetime
{
    public const int People = 4;
    public const int Seed = 42;

    private SandboxServer? _server;

    public SandboxServer Server => _server ?? throw new InvalidOperationException("The sandbox has not started.");

    public async ValueTask InitializeAsync() =>
        _server = await SandboxServer.StartAsync(new Dictionary<string, string?>
        {
            ["Sandbox:TestApi"] = "true",
            ["Sandbox:Generator:Seed"] = Seed.ToString(CultureInfo.InvariantCulture),
            ["Sandbox:Generator:People"] = People.ToString(CultureInfo.InvariantCulture),
        });

    /// <summary>Generated person <paramref name="number"/> (1 to <see cref="People"/>) at a persona.</summary>
    public async Task<TestPatient> PatientAsync(string persona, int number, string version = "R4") =>
        (await Server.TestPatientsAsync()).Single(p => p.Persona == persona && p.FhirVersion == version
            && p.PersonId == string.Create(CultureInfo.InvariantCulture, $"person-g{Seed}-{number}"));

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
