using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Aggregator.IntegrationTests.Infrastructure;
using Aggregator.Sandbox.Demo;
using Aggregator.Sandbox.Tests.Hosting;
using Microsoft.AspNetCore.WebUtilities;

namespace Aggregator.IntegrationTests.Providers;

/// <summary>
/// docker-compose's split: the Api calls the sandbox at one name (<c>http://sandbox:8080</c> there) and the patient's
/// browser reaches it at another (<c>http://127.0.0.1:8090</c>). Here the sandbox listens once on 127.0.0.1 and is told
/// <c>Sandbox:BaseUrl=http://127.0.0.1:{port}</c> and <c>Sandbox:PublicBaseUrl=http://localhost:{port}</c>; the Api is
/// told the same pair. The authorize url we hand out is the public one, everything else stays on the base url, and the
/// whole connect flow (RFC 9207 issuer check included) and the first sync work, for R4 and DSTU2.
/// </summary>
public sealed class SandboxPublicUrlTests(PostgresServer server) : IAsyncLifetime
{
    private const string ReturnUrl = "https://coral.example/connected";

    private readonly TestDatabase _database = new(server);
    private SandboxServer _sandbox = null!;
    private ApiFactory _api = null!;
    private HttpClient _tenant = null!;
    private Uri _browserRoot = null!;

    public async ValueTask InitializeAsync()
    {
        await _database.InitializeAsync();
        var port = FreePort();
        var baseUrl = $"http://127.0.0.1:{port}/";
        _browserRoot = new Uri($"http://localhost:{port}/");
        _sandbox = await SandboxServer.StartAsync(new Dictionary<string, string?>
        {
            ["Sandbox:DataDir"] = FhirSamples.Directory,
            ["Sandbox:TestApi"] = "true",
            ["Sandbox:BaseUrl"] = baseUrl,
            ["Sandbox:PublicBaseUrl"] = _browserRoot.AbsoluteUri,
        }, port: port, cancellationToken: TestContext.Current.CancellationToken);
        _api = new ApiFactory(_database.ConnectionString, new Dictionary<string, string?>
        {
            ["Sandbox:BaseUrl"] = baseUrl,
            ["Sandbox:PublicBaseUrl"] = _browserRoot.AbsoluteUri,
            ["Api:PublicBaseUrl"] = ApiFactory.PublicBaseUrl,
            ["Worker:InProcess"] = "true",
            ["Sync:ManualCooldown"] = "00:00:00",
        });
        (_tenant, _) = await _api.CreateTenantClientAsync("Coral Health", ReturnUrl);
    }

    public async ValueTask DisposeAsync()
    {
        await _api.DisposeAsync();
        await _sandbox.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Theory]
    [InlineData("sandbox-epic-r4", "epic", "R4")]
    [InlineData("sandbox-nextgen-dstu2", "nextgen", "DSTU2")]
    public async Task The_browser_authorizes_at_the_public_url_and_the_api_syncs_at_the_base_url(string slug, string persona, string version)
    {
        using var sandboxClient = _sandbox.CreateClient();
        var logins = await sandboxClient.GetFromJsonAsync<List<SandboxLogin>>(new Uri("_test/patients", UriKind.Relative),
            new JsonSerializerOptions(JsonSerializerDefaults.Web), TestContext.Current.CancellationToken);
        var login = logins!.First(p => p.Persona == persona && p.FhirVersion == version);
        var patientId = (await _tenant.PutPatientAsync($"split-{persona}")).GetProperty("id").GetGuid();
        var provider = (await _tenant.GetJsonAsync("/v1/providers?q=" + slug)).GetProperty("items").EnumerateArray().Single();
        Assert.Equal($"{_sandbox.Root}{persona}/fhir/{version.ToLowerInvariant()}/", provider.GetProperty("fhirBaseUrl").GetString());

        var started = await _tenant.PostAsJsonAsync(new Uri($"/v1/patients/{patientId}/connections", UriKind.Relative),
            new { providerId = provider.GetProperty("id").GetGuid(), returnUrl = ReturnUrl }, TestContext.Current.CancellationToken);
        Assert.True(started.StatusCode == HttpStatusCode.Created, await started.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var body = await started.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var authorizeUrl = new Uri(body.GetProperty("authorizeUrl").GetString()!);
        var connectionId = body.GetProperty("connectionId").GetGuid();

        // The browser is sent to the public name; the FHIR base it asks access to is the one the Api calls.
        Assert.Equal(_browserRoot + "oauth/authorize", authorizeUrl.GetLeftPart(UriPartial.Path));
        Assert.Equal(provider.GetProperty("fhirBaseUrl").GetString(), QueryHelpers.ParseQuery(authorizeUrl.Query)["aud"].ToString());
        var callback = await SignInAsync(authorizeUrl, login);
        Assert.Equal(_sandbox.Root.AbsoluteUri, QueryHelpers.ParseQuery(callback.Query)["iss"].ToString());
        using var api = _api.CreateBrowserClient();
        using var landed = await api.GetAsync(new Uri(callback.PathAndQuery, UriKind.Relative), TestContext.Current.CancellationToken);
        var landing = landed.Headers.Location!;
        Assert.True(QueryHelpers.ParseQuery(landing.Query)["status"] == "connected", landing.ToString());
        await _tenant.ConfirmAsync(connectionId, landing);

        var run = await _tenant.WaitForRunAsync(connectionId);
        Assert.Equal("succeeded", run.GetProperty("status").GetString());
        var connection = await _tenant.GetJsonAsync($"/v1/connections/{connectionId}");
        Assert.Equal("active", connection.GetProperty("status").GetString());
        Assert.Equal(login.PatientId, connection.GetProperty("providerPatientId").GetString());
    }

    /// <summary>A patient's browser at the sandbox's public name: login, consent (all ticked), allow; returns the redirect.</summary>
    private async Task<Uri> SignInAsync(Uri authorizeUrl, SandboxLogin login)
    {
        using var browser = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
        using var loginPage = await browser.GetAsync(authorizeUrl, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, loginPage.StatusCode);
        using var consentPage = await SubmitAsync(browser, loginPage,
            new Dictionary<string, string> { ["username"] = login.Username, ["password"] = login.Password });
        Assert.Equal(HttpStatusCode.OK, consentPage.StatusCode);
        using var decision = await SubmitAsync(browser, consentPage, button: "allow");
        Assert.Equal(HttpStatusCode.Found, decision.StatusCode);
        return decision.Headers.Location!;
    }

    private async Task<HttpResponseMessage> SubmitAsync(HttpClient browser, HttpResponseMessage page,
        IReadOnlyDictionary<string, string>? values = null, string? button = null)
    {
        var form = HtmlForm.Parse(await page.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        return await browser.PostAsync(new Uri(_browserRoot, form.Action), form.Submit(values, c => c.Checked, button),
            TestContext.Current.CancellationToken);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
