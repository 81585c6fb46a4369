using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aggregator.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;

namespace Aggregator.IntegrationTests.Auditing;

/// <summary>
/// Everything the Api and its in-process Worker log, at debug level, over a patient's whole journey (connect, sync,
/// read, disconnect) holds none of the credentials or patient details that journey used.
/// </summary>
public sealed class LogSecrecyTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox, jobServer: true,
    configureServices: services => services.AddSingleton<ILogEventSink>(Captured),
    settings: new Dictionary<string, string?>
    {
        ["Serilog:MinimumLevel:Default"] = "Debug",
        ["Serilog:MinimumLevel:Override:Aggregator"] = "Debug",
        ["Serilog:MinimumLevel:Override:Microsoft.AspNetCore"] = "Information",
        ["Serilog:MinimumLevel:Override:Hangfire"] = "Information",
        ["Serilog:MinimumLevel:Override:Microsoft.Extensions.Http"] = "Debug",
        ["Serilog:MinimumLevel:Override:System.Net.Http"] = "Debug",
        ["Serilog:MinimumLevel:Override:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Debug",
    })
{
    private static readonly CapturedLogs Captured = new();

    [Fact]
    public async Task Connect_sync_read_and_disconnect_log_no_token_key_secret_or_patient_detail()
    {
        var login = Sandbox.Generated("cerner", "R4", 7);
        var patientId = (await Tenant.PutPatientAsync("log-secrecy")).GetProperty("id").GetGuid();
        var providerId = (await Tenant.GetJsonAsync("/v1/providers?q=sandbox-cerner-r4")).GetProperty("items")[0].GetProperty("id").GetGuid();
        using var started = await Tenant.PostAsJsonAsync(new Uri($"/v1/patients/{patientId}/connections", UriKind.Relative), new { providerId, returnUrl = ConnectedPatients.ReturnUrl }, TestContext.Current.CancellationToken);
        var body = await started.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var connectionId = body.GetProperty("connectionId").GetGuid();
        var authorizeUrl = new Uri(body.GetProperty("authorizeUrl").GetString()!);
        var browser = new PatientBrowser(Sandbox, Api.CreateBrowserClient());
        var callback = await browser.AuthorizeAsync(authorizeUrl, login);
        var landing = await browser.CallbackAsync(callback);
        await Tenant.ConfirmAsync(connectionId, landing);
        await Tenant.WaitForRunAsync(connectionId);
        var tokens = await ReadTokensAsync(connectionId);

        using var minted = await Tenant.PostAsJsonAsync(new Uri($"/v1/patients/{patientId}/session-tokens", UriKind.Relative), new { }, TestContext.Current.CancellationToken);
        var session = (await minted.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("token").GetString()!;
        var patientClient = Api.CreateClient().WithBearer(session);
        var fhirPatient = JsonDocument.Parse(await patientClient.GetStringAsync(new Uri($"/fhir/r4/Patient/{patientId}", UriKind.Relative), TestContext.Current.CancellationToken)).RootElement;
        foreach (var category in (await patientClient.GetFromJsonAsync<JsonElement>(new Uri($"/v1/patients/{patientId}/record", UriKind.Relative), TestContext.Current.CancellationToken)).GetProperty("categories").EnumerateArray())
        {
            Assert.Equal(HttpStatusCode.OK, (await patientClient.GetAsync(new Uri($"/v1/patients/{patientId}/record/{category.GetProperty("category").GetString()}", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await patientClient.GetAsync(new Uri($"/v1/patients/{patientId}/export", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Tenant.DeleteAsync(new Uri($"/v1/connections/{connectionId}?purge=true", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);

        var name = fhirPatient.GetProperty("name")[0];
        var secrets = new Dictionary<string, string?>
        {
            ["the tenant's API key"] = Tenant.DefaultRequestHeaders.Authorization!.Parameter,
            ["the session token"] = session,
            ["the access token"] = tokens.AccessToken,
            ["the refresh token"] = tokens.RefreshToken,
            ["the id token"] = tokens.IdToken,
            ["the authorization code"] = QueryHelpers.ParseQuery(callback.Query)["code"].ToString(),
            ["the OAuth state"] = QueryHelpers.ParseQuery(callback.Query)["state"].ToString(),
            ["the result code"] = QueryHelpers.ParseQuery(landing.Query)["result_code"].ToString(),
            ["the client secret"] = "cerner-sandbox-secret",
            ["the portal password"] = login.Password,
            ["the portal username"] = login.Username,
            ["the family name"] = name.GetProperty("family").GetString(),
            ["the given name"] = name.GetProperty("given")[0].GetString(),
            ["the birth date"] = fhirPatient.GetProperty("birthDate").GetString(),
        };

        var logged = Captured.Texts();
        // The capture covered the journey: the request log names the callback, the export and the purge.
        foreach (var step in new[] { "/v1/oauth/callback", $"/v1/patients/{patientId}/export", $"/v1/connections/{connectionId}" })
        {
            Assert.True(logged.Exists(text => text.Contains(step, StringComparison.Ordinal)), $"No log event names {step}; captured: {logged.Count}");
        }

        Captured.AssertHoldsNone(secrets);
    }
}
