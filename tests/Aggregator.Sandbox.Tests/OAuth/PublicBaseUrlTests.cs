using System.Net;
using System.Net.Sockets;
using Aggregator.Sandbox.Tests.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Aggregator.Sandbox.Tests.OAuth;

/// <summary>
/// A sandbox that servers and browsers reach at different names, as in docker-compose (the Api calls
/// <c>http://sandbox:8080</c>, the host's browser <c>http://127.0.0.1:8090</c>): here one Kestrel listener is
/// <c>Sandbox:BaseUrl</c> as <c>http://127.0.0.1:{port}</c> and <c>Sandbox:PublicBaseUrl</c> as
/// <c>http://localhost:{port}</c>, two origins a client must not mistake for one another.
/// </summary>
public sealed class PublicBaseUrlTests : IAsyncLifetime
{
    private const string Scopes = "launch/patient openid fhirUser offline_access patient/*.read";

    private SandboxServer _server = null!;
    private Uri _serverRoot = null!;
    private Uri _browserRoot = null!;

    public async ValueTask InitializeAsync()
    {
        var port = FreePort();
        _serverRoot = new Uri($"http://127.0.0.1:{port}/");
        _browserRoot = new Uri($"http://localhost:{port}/");
        _server = await SandboxServer.StartAsync(new Dictionary<string, string?>
        {
            ["Sandbox:DataDir"] = FhirSamples.Directory,
            ["Sandbox:TestApi"] = "true",
            ["Sandbox:BaseUrl"] = _serverRoot.AbsoluteUri,
            ["Sandbox:PublicBaseUrl"] = _browserRoot.AbsoluteUri,
        }, port: port, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(_serverRoot, _server.Root);
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Discovery_sends_browsers_to_the_public_url_and_servers_to_the_base_url()
    {
        using var client = _server.CreateClient();

        var smart = await client.GetJsonAsync(new Uri(_server.FhirBase("epic", "r4"), ".well-known/smart-configuration"));
        var conformance = await client.GetJsonAsync(new Uri(_server.FhirBase("nextgen", "dstu2"), "metadata"));
        var openId = await client.GetJsonAsync(new Uri(_serverRoot, ".well-known/openid-configuration"));

        Assert.Equal(_browserRoot + "oauth/authorize", (string?)smart["authorization_endpoint"]);
        Assert.Equal(_serverRoot + "oauth/token", (string?)smart["token_endpoint"]);
        Assert.Equal(_serverRoot + "oauth/revoke", (string?)smart["revocation_endpoint"]);
        Assert.Equal(_serverRoot + "oauth/introspect", (string?)smart["introspection_endpoint"]);
        Assert.Equal(_serverRoot + ".well-known/jwks", (string?)smart["jwks_uri"]);
        Assert.Equal(_serverRoot.AbsoluteUri, (string?)smart["issuer"]);
        var uris = conformance["rest"]![0]!["security"]!["extension"]![0]!["extension"]!.AsArray()
            .ToDictionary(e => (string)e!["url"]!, e => (string)e!["valueUri"]!);
        Assert.Equal(_browserRoot + "oauth/authorize", uris["authorize"]);
        Assert.Equal(_serverRoot + "oauth/token", uris["token"]);
        Assert.Equal(_browserRoot + "oauth/authorize", (string?)openId["authorization_endpoint"]);
        Assert.Equal(_serverRoot.AbsoluteUri, (string?)openId["issuer"]);
    }

    [Theory]
    [InlineData("epic", "r4")]
    [InlineData("nextgen", "dstu2")]
    public async Task A_browser_at_the_public_url_authorizes_a_server_that_calls_the_base_url(string persona, string version)
    {
        // The app names the FHIR base as it calls it (the base URL); the patient's browser signs in at the public URL.
        var fhirBase = _server.FhirBase(persona, version);
        var patient = (await _server.TestPatientsAsync()).First(p => p.Persona == persona
            && string.Equals(p.FhirVersion, version, StringComparison.OrdinalIgnoreCase));
        var app = new SmartApp(_server, SandboxClient.Confidential(persona)) { BrowserRoot = _browserRoot };

        var redirect = await app.AuthorizeAsync(fhirBase, patient, Scopes);

        // RFC 9207: the response names the issuer discovery names, whichever name the browser used; its origin is the
        // token endpoint's, which is what a client of a DSTU2 server (no issuer in its Conformance) compares with.
        Assert.Equal(_serverRoot.AbsoluteUri, SmartApp.QueryValue(redirect, "iss"));
        var tokens = await app.ExchangeAsync(SmartApp.QueryValue(redirect, "code")!);
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        var accessToken = new JsonWebToken(tokens.AccessToken);
        Assert.Equal(fhirBase.AbsoluteUri.TrimEnd('/'), accessToken.Audiences.Single());
        Assert.Equal(_serverRoot.AbsoluteUri, accessToken.Issuer);
        Assert.Equal(_serverRoot.AbsoluteUri, new JsonWebToken(tokens.IdToken).Issuer);
        Assert.Equal($"{fhirBase}Patient/{patient.PatientId}", new JsonWebToken(tokens.IdToken).GetClaim("fhirUser").Value);

        using var fhir = _server.CreateClient();
        fhir.DefaultRequestHeaders.Authorization = new("Bearer", tokens.AccessToken);
        var read = await fhir.GetJsonAsync(new Uri(fhirBase, $"Patient/{patient.PatientId}"));
        Assert.Equal(patient.PatientId, (string?)read["id"]);
        var refreshed = await app.RefreshAsync(tokens.RefreshToken!);
        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
    }

    [Fact]
    public async Task An_aud_at_a_name_the_sandbox_does_not_have_is_refused()
    {
        var patient = (await _server.TestPatientsAsync()).First(p => p.Persona == "epic");
        var app = new SmartApp(_server, SandboxClient.Public("epic")) { BrowserRoot = _browserRoot };

        var redirect = await app.AuthorizeAsync(new Uri($"http://sandbox.invalid:{_serverRoot.Port}/epic/fhir/r4/"), patient, Scopes);

        Assert.Equal("invalid_request", SmartApp.QueryValue(redirect, "error"));
    }

    [Fact]
    public async Task A_public_url_without_a_base_url_is_refused_at_start()
    {
        var refused = await Assert.ThrowsAsync<OptionsValidationException>(async () => await SandboxServer.StartAsync(
            new Dictionary<string, string?> { ["Sandbox:PublicBaseUrl"] = "http://localhost:8090/" },
            cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("Sandbox:BaseUrl", refused.Message, StringComparison.Ordinal);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
