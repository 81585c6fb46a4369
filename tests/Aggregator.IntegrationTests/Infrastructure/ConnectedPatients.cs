using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;

namespace Aggregator.IntegrationTests.Infrastructure;

/// <summary>Test steps a partner would take: register a patient, connect it through the sandbox's login, sync, wait.</summary>
public static class ConnectedPatients
{
    public const string ReturnUrl = "https://coral.example/connected";

    /// <summary>Registers a patient and connects it at <paramref name="providerSlug"/> as <paramref name="login"/>; returns the ids.</summary>
    public static async Task<(Guid PatientId, Guid ConnectionId)> ConnectAsync(
        this ApiFactory api, HttpClient tenant, SandboxProvider sandbox, string providerSlug, SandboxLogin login, string? externalId = null)
    {
        var patientId = (await tenant.PutPatientAsync(externalId ?? $"{login.Persona}-{login.FhirVersion}-{login.PatientId}")).GetProperty("id").GetGuid();
        return (patientId, await api.ConnectExistingAsync(tenant, sandbox, patientId, providerSlug, login));
    }

    public static async Task<Guid> ConnectExistingAsync(this ApiFactory api, HttpClient tenant, SandboxProvider sandbox, Guid patientId, string providerSlug, SandboxLogin login)
    {
        var (connectionId, landing) = await api.ConnectUnconfirmedAsync(tenant, sandbox, patientId, providerSlug, login);
        await tenant.ConfirmAsync(connectionId, landing);
        return connectionId;
    }

    /// <summary>
    /// The patient's login and consent, without the partner's confirmation: the connection syncs in quarantine until
    /// <see cref="ConfirmAsync"/> with the return url it landed on.
    /// </summary>
    public static async Task<(Guid ConnectionId, Uri Landing)> ConnectUnconfirmedAsync(
        this ApiFactory api, HttpClient tenant, SandboxProvider sandbox, Guid patientId, string providerSlug, SandboxLogin login)
    {
        var provider = (await tenant.GetJsonAsync("/v1/providers?q=" + providerSlug)).GetProperty("items")[0].GetProperty("id").GetGuid();
        var response = await tenant.PostAsJsonAsync(new Uri($"/v1/patients/{patientId}/connections", UriKind.Relative), new { providerId = provider, returnUrl = ReturnUrl });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var browser = new PatientBrowser(sandbox, api.CreateBrowserClient());
        var landing = await browser.ConnectAsync(new Uri(body.GetProperty("authorizeUrl").GetString()!), login);
        Assert.Equal("connected", QueryHelpers.ParseQuery(landing.Query)["status"].ToString());
        return (body.GetProperty("connectionId").GetGuid(), landing);
    }

    /// <summary>What the partner's backend does with the return url: redeems its result code, binding the connection.</summary>
    public static async Task<JsonElement> ConfirmAsync(this HttpClient tenant, Guid connectionId, Uri landing)
    {
        var code = QueryHelpers.ParseQuery(landing.Query)["result_code"].ToString();
        Assert.False(string.IsNullOrEmpty(code), $"The return url carried no result_code: {landing}");
        var response = await tenant.PostAsJsonAsync(new Uri($"/v1/connections/{connectionId}/confirm", UriKind.Relative), new { resultCode = code });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Waits until the newest run (or the given one) of a connection has finished; returns it.</summary>
    public static async Task<JsonElement> WaitForRunAsync(this HttpClient tenant, Guid connectionId, Guid? runId = null, TimeSpan? limit = null)
    {
        using var timeout = new CancellationTokenSource(limit ?? TimeSpan.FromSeconds(120));
        while (true)
        {
            var runs = await tenant.GetJsonAsync($"/v1/connections/{connectionId}/sync-runs");
            var run = runs.GetProperty("items").EnumerateArray().FirstOrDefault(r => runId is null || r.GetProperty("id").GetGuid() == runId);
            if (run.ValueKind == JsonValueKind.Object && run.GetProperty("status").GetString() is "succeeded" or "partial" or "failed")
            {
                return run;
            }

            Assert.False(timeout.IsCancellationRequested, $"The sync of {connectionId} did not finish in time; last seen: {run}");
            await Task.Delay(200, CancellationToken.None);
        }
    }

    /// <summary>Asks for a sync now and waits for that run.</summary>
    public static async Task<JsonElement> SyncNowAsync(this HttpClient tenant, Guid connectionId)
    {
        var response = await tenant.PostAsync(new Uri($"/v1/connections/{connectionId}/sync", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var runId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("syncRunId").GetGuid();
        return await tenant.WaitForRunAsync(connectionId, runId);
    }
}
