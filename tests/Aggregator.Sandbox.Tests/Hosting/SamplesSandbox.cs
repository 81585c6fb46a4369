using System.Collections.Concurrent;
using System.Net.Http.Headers;

[assembly: AssemblyFixture(typeof(Aggregator.Sandbox.Tests.Hosting.SamplesSandbox))]

namespace Aggregator.Sandbox.Tests.Hosting;

/// <summary>
/// One sandbox for the whole assembly, serving every sample file and three generated people (seed 42), with
/// the test API on and short token lifetimes (5 minutes access, 1 hour refresh). Tests here only read; tests that
/// inject faults or change data start a sandbox of their own.
/// </summary>
public sealed class SamplesSandbox : IAsyncLifetime
{
    public static readonly TimeSpan AccessTokenLifetime = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan RefreshTokenLifetime = TimeSpan.FromHours(1);
    public const int GeneratorSeed = 42;
    public const int GeneratedPeople = 3;

    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _accessTokens = new(StringComparer.Ordinal);
    private SandboxServer? _server;

    public SandboxServer Server => _server ?? throw new InvalidOperationException("The sandbox has not started.");

    public async ValueTask InitializeAsync() =>
        _server = await SandboxServer.StartAsync(new Dictionary<string, string?>
        {
            ["Sandbox:DataDir"] = FhirSamples.Directory,
            ["Sandbox:TestApi"] = "true",
            ["Sandbox:Generator:Seed"] = GeneratorSeed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Sandbox:Generator:People"] = GeneratedPeople.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Sandbox:Tokens:AccessTokenLifetime"] = AccessTokenLifetime.ToString(),
            ["Sandbox:Tokens:RefreshTokenLifetime"] = RefreshTokenLifetime.ToString(),
        });

    /// <summary>A client with the patient's access token (all of its data) for one base; one sign-in per patient.</summary>
    public async Task<HttpClient> PatientClientAsync(string persona, string version, string patientId)
    {
        var token = await _accessTokens.GetOrAdd($"{persona}/{version}/{patientId}", _ => new Lazy<Task<string>>(async () =>
        {
            var patient = await Server.TestPatientAsync(persona, version, patientId);
            var tokens = await new SmartApp(Server, SandboxClient.Public(persona))
                .SignInAsync(Server.FhirBase(persona, version), patient, "launch/patient openid fhirUser patient/*.read");
            return tokens.AccessToken!;
        })).Value;
        var client = Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
