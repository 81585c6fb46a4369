using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aggregator.Domain.Providers;
using Aggregator.Infrastructure.Providers;
using Aggregator.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Aggregator.IntegrationTests.Connections;

/// <summary>Connect attempts that cannot succeed end with a clear reason and store nothing half-done.</summary>
public sealed class ConnectFailureTests(PostgresServer server, SandboxProvider sandbox) : IAsyncLifetime
{
    private const string ReturnUrl = "https://coral.example/connected";
    private readonly TestDatabase _database = new(server);
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private ApiFactory _api = null!;
    private HttpClient _tenant = null!;

    public async ValueTask InitializeAsync()
    {
        await _database.InitializeAsync();
        _api = ApiFactory.WithSandbox(_database.ConnectionString, sandbox, services => services.AddSingleton<TimeProvider>(_clock));
        (_tenant, _) = await _api.CreateTenantClientAsync("Coral Health", ReturnUrl);
    }

    public async ValueTask DisposeAsync()
    {
        await _api.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task A_login_finished_after_the_state_expired_ends_on_the_return_url_with_expired_state()
    {
        var patient = (await _tenant.PutPatientAsync("slow-patient")).GetProperty("id").GetGuid();
        var provider = (await _tenant.GetJsonAsync("/v1/providers?q=sandbox-epic-r4")).GetProperty("items")[0].GetProperty("id").GetGuid();
        var started = await _tenant.PostAsJsonAsync(new Uri($"/v1/patients/{patient}/connections", UriKind.Relative), new { providerId = provider, returnUrl = ReturnUrl }, TestContext.Current.CancellationToken);
        var body = await started.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var browser = new PatientBrowser(sandbox, _api.CreateClient(new() { AllowAutoRedirect = false }));
        var callback = await browser.AuthorizeAsync(new Uri(body.GetProperty("authorizeUrl").GetString()!), sandbox.Login("epic", "R4", 6));

        _clock.Advance(TimeSpan.FromMinutes(11));
        var landing = await browser.CallbackAsync(callback);

        Assert.Equal("error", QueryHelpers.ParseQuery(landing.Query)["status"].ToString());
        Assert.Equal("expired_state", QueryHelpers.ParseQuery(landing.Query)["reason"].ToString());
        await using var db = _database.CreateContext();
        var connection = await db.Connections.SingleAsync(c => c.Id == body.GetProperty("connectionId").GetGuid(), TestContext.Current.CancellationToken);
        Assert.Null(connection.TokenSetProtected);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("https://evil.example/")]
    public async Task An_authorization_response_without_the_issuer_the_provider_advertises_or_with_another_is_not_exchanged(string? issuer)
    {
        var patient = (await _tenant.PutPatientAsync("p-iss-" + (issuer is null ? "missing" : "other"))).GetProperty("id").GetGuid();
        var provider = (await _tenant.GetJsonAsync("/v1/providers?q=sandbox-epic-r4")).GetProperty("items")[0].GetProperty("id").GetGuid();
        var started = await _tenant.PostAsJsonAsync(new Uri($"/v1/patients/{patient}/connections", UriKind.Relative), new { providerId = provider, returnUrl = ReturnUrl }, TestContext.Current.CancellationToken);
        var body = await started.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var authorizeUrl = new Uri(body.GetProperty("authorizeUrl").GetString()!);
        // PKCE S256 is always asked for.
        Assert.Equal("S256", QueryHelpers.ParseQuery(authorizeUrl.Query)["code_challenge_method"].ToString());
        var browser = new PatientBrowser(sandbox, _api.CreateClient(new() { AllowAutoRedirect = false }));
        var callback = await browser.AuthorizeAsync(authorizeUrl, sandbox.Login("epic", "R4", 6));
        // The sandbox advertises authorization_response_iss_parameter_supported and names itself: drop or replace its iss.
        var query = QueryHelpers.ParseQuery(callback.Query).Where(p => p.Key != "iss").ToDictionary(p => p.Key, p => (string?)p.Value.ToString());
        Assert.True(QueryHelpers.ParseQuery(callback.Query).ContainsKey("iss"));
        if (issuer is not null)
        {
            query["iss"] = issuer;
        }

        var landing = await browser.CallbackAsync(new Uri(QueryHelpers.AddQueryString(callback.GetLeftPart(UriPartial.Path), query)));

        Assert.Equal("error", QueryHelpers.ParseQuery(landing.Query)["status"].ToString());
        Assert.Equal("invalid_state", QueryHelpers.ParseQuery(landing.Query)["reason"].ToString());
        await using var db = _database.CreateContext();
        var connection = await db.Connections.SingleAsync(c => c.Id == body.GetProperty("connectionId").GetGuid(), TestContext.Current.CancellationToken);
        Assert.Null(connection.TokenSetProtected);
    }

    [Fact]
    public async Task A_provider_that_does_not_answer_is_a_502_problem_and_nothing_is_stored()
    {
        await using (var scope = _api.Services.CreateAsyncScope())
        {
            var administration = scope.ServiceProvider.GetRequiredService<ProviderAdministration>();
            using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var deadPort = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            var provider = await administration.UpsertAsync(new ProviderEntry("dead-r4", "Dead Clinic (R4)", "Dead", FhirVersion.R4, $"http://127.0.0.1:{deadPort}/fhir/r4/"), "test", TestContext.Current.CancellationToken);
            await administration.SetClientAsync(provider, null, "client", ClientAuthenticationMethod.None, null, null, null, TestContext.Current.CancellationToken);
            await administration.SaveAsync(TestContext.Current.CancellationToken);
        }

        var patient = (await _tenant.PutPatientAsync("p-dead")).GetProperty("id").GetGuid();
        var providerId = (await _tenant.GetJsonAsync("/v1/providers?q=dead-r4")).GetProperty("items")[0].GetProperty("id").GetGuid();

        var response = await _tenant.PostAsJsonAsync(new Uri($"/v1/patients/{patient}/connections", UriKind.Relative), new { providerId, returnUrl = ReturnUrl }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("urn:aggregator:problem:provider-unreachable", (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("type").GetString());
        await using var db = _database.CreateContext();
        Assert.Equal(0, await db.Connections.CountAsync(TestContext.Current.CancellationToken));
    }
}
