using System.Net.Http.Json;
using System.Text.Json;
using Aggregator.Sandbox.Accuracy;
using Aggregator.Sandbox.Tests.Hosting;

[assembly: AssemblyFixture(typeof(Aggregator.IntegrationTests.Infrastructure.SandboxProvider))]

namespace Aggregator.IntegrationTests.Infrastructure;

/// <summary>A sandbox login: one patient at one persona and FHIR version.</summary>
public sealed record SandboxLogin(string Persona, string FhirVersion, string PatientId, string PersonId, string Username, string Password, string Source);

/// <summary>
/// The provider every test of ours talks to: the Sandbox on real Kestrel at 127.0.0.1, loaded with
/// the sample patients, test API on. One for the whole run; tests use distinct patients.
/// </summary>
public sealed class SandboxProvider : IAsyncLifetime
{
    private SandboxServer? _server;
    private IReadOnlyList<SandboxLogin> _logins = [];

    public Uri Root => _server?.Root ?? throw new InvalidOperationException("The sandbox has not started.");

    public IReadOnlyList<SandboxLogin> Logins => _logins;

    /// <summary>The sandbox itself, for its test API (faults, request counts, data changes, overlap ground truth).</summary>
    public SandboxServer Server => _server ?? throw new InvalidOperationException("The sandbox has not started.");

    /// <summary>A generated person's login; <paramref name="person"/> picks one of them, so that tests that change data or inject faults never share.</summary>
    public SandboxLogin Generated(string persona, string fhirVersion, int person) =>
        _logins.Where(l => l.Persona == persona && l.FhirVersion == fhirVersion && l.Source == "generated")
            .OrderBy(l => l.PersonId, StringComparer.Ordinal).ElementAt(person);

    /// <summary>The seed of the second provider the sandbox serves as persona <c>second</c>.</summary>
    public const int SecondProviderSeed = 16;

    private string? _secondProviderFolder;

    /// <summary>
    /// The ground truth of persona <c>second</c>: each R4 sample patient as another EHR writes the same facts
    /// (built at start from the repository's samples with <see cref="SecondProviderSeed"/>).
    /// </summary>
    public SecondProviderTruth SecondProvider { get; private set; } = new(0, []);

    public async ValueTask InitializeAsync()
    {
        _secondProviderFolder = Directory.CreateTempSubdirectory("aggregator-second-provider-").FullName;
        SecondProvider = Aggregator.Sandbox.Accuracy.SecondProvider.Write(FhirSamples.Directory, _secondProviderFolder, SecondProviderSeed);
        _server = await SandboxServer.StartAsync(new Dictionary<string, string?>
        {
            ["Sandbox:DataDir"] = FhirSamples.Directory,
            ["Sandbox:TestApi"] = "true",
            // Generated people: the same person at several personas, for merge tests, and patients that fault and change tests may own.
            ["Sandbox:Generator:People"] = "10",
            // Providers whose discovery documents name endpoints a client must refuse: plain http on another host, and a
            // private address.
            ["Sandbox:Personas:rogue-http:DisplayName"] = "Rogue discovery (http)",
            ["Sandbox:Personas:rogue-http:FhirVersions:0"] = "R4",
            ["Sandbox:Personas:rogue-http:ServesLoadedData"] = "false",
            ["Sandbox:Personas:rogue-http:DiscoveryOverrides:token_endpoint"] = "http://tokens.rogue.example/oauth/token",
            ["Sandbox:Personas:rogue-private:DisplayName"] = "Rogue discovery (private network)",
            ["Sandbox:Personas:rogue-private:FhirVersions:0"] = "R4",
            ["Sandbox:Personas:rogue-private:ServesLoadedData"] = "false",
            ["Sandbox:Personas:rogue-private:DiscoveryOverrides:token_endpoint"] = "https://10.20.30.40/oauth/token",
            // A second provider of the sample patients, for the de-duplication accuracy check.
            ["Sandbox:Personas:second:DisplayName"] = "Second provider of the sample patients",
            ["Sandbox:Personas:second:FhirVersions:0"] = "R4",
            ["Sandbox:Personas:second:DataDir"] = _secondProviderFolder,
            ["Sandbox:Personas:second:Clients:0:ClientId"] = "second-public-app",
            ["Sandbox:Personas:second:Clients:0:DisplayName"] = "Sandbox public app (second)",
            ["Sandbox:Personas:second:Clients:0:Authentication"] = "none",
            ["Sandbox:Personas:second:Clients:0:RedirectUris:0"] = "http://127.0.0.1/v1/oauth/callback",
            // The sample patients once more, at a provider no other test calls: a test may slow it down and count its
            // requests at once without reaching, or being reached by, anyone else's.
            ["Sandbox:Personas:parallel:DisplayName"] = "Parallel searches",
            ["Sandbox:Personas:parallel:FhirVersions:0"] = "R4",
            ["Sandbox:Personas:parallel:Clients:0:ClientId"] = "parallel-public-app",
            ["Sandbox:Personas:parallel:Clients:0:DisplayName"] = "Sandbox public app (parallel)",
            ["Sandbox:Personas:parallel:Clients:0:Authentication"] = "none",
            ["Sandbox:Personas:parallel:Clients:0:RedirectUris:0"] = "http://127.0.0.1/v1/oauth/callback",
        });
        using var client = _server.CreateClient();
        _logins = await client.GetFromJsonAsync<List<SandboxLogin>>(new Uri("_test/patients", UriKind.Relative), new JsonSerializerOptions(JsonSerializerDefaults.Web))
            ?? throw new InvalidOperationException("The sandbox listed no patients.");
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        if (_secondProviderFolder is not null)
        {
            Directory.Delete(_secondProviderFolder, recursive: true);
        }
    }

    /// <summary>A login at <paramref name="persona"/>; <paramref name="index"/> picks among its patients so tests do not share one.</summary>
    public SandboxLogin Login(string persona, string fhirVersion, int index = 0) =>
        _logins.Where(l => l.Persona == persona && l.FhirVersion == fhirVersion && l.Source != "generated").OrderBy(l => l.Source, StringComparer.Ordinal).ElementAt(index);

    /// <summary>A client to the sandbox that neither follows redirects nor keeps cookies, as the tests' "browser".</summary>
    public HttpClient CreateClient() => _server?.CreateClient() ?? throw new InvalidOperationException("The sandbox has not started.");
}
