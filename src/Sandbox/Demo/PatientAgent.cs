using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;

namespace Aggregator.Sandbox.Demo;

/// <summary>A sandbox portal login: which persona and FHIR version, and the credentials a patient types.</summary>
public sealed record PortalLogin(string Persona, string FhirVersion, string PatientId, string PersonId, string Username, string Password, string Source);

/// <summary>A partner app's view of Aggregator, just enough to connect a patient and read the record it built.</summary>
public sealed class AggregatorPartner(HttpClient api)
{
    /// <summary>Registers (or finds) the tenant's patient with this external id; returns Aggregator's id.</summary>
    public async Task<Guid> PutPatientAsync(string externalId, CancellationToken cancellationToken)
    {
        using var response = await api.PutAsJsonAsync(new Uri($"v1/patients/{Uri.EscapeDataString(externalId)}", UriKind.Relative), new { }, cancellationToken);
        return (await ReadAsync(response, cancellationToken)).GetProperty("id").GetGuid();
    }

    /// <summary>The connection this patient already has at the provider, when it is usable.</summary>
    public async Task<Guid?> ActiveConnectionAsync(Guid patientId, Guid providerId, CancellationToken cancellationToken)
    {
        var connections = await GetAsync($"v1/patients/{patientId}/connections", cancellationToken);
        return connections.GetProperty("items").EnumerateArray()
            .Where(c => c.GetProperty("providerId").GetGuid() == providerId && c.GetProperty("status").GetString() == "active")
            .Select(c => (Guid?)c.GetProperty("id").GetGuid())
            .FirstOrDefault();
    }

    public async Task<Guid> ProviderIdAsync(string slug, CancellationToken cancellationToken)
    {
        var providers = await GetAsync("v1/providers?q=" + Uri.EscapeDataString(slug), cancellationToken);
        return providers.GetProperty("items").EnumerateArray().FirstOrDefault(p => p.GetProperty("slug").GetString() == slug) is { ValueKind: JsonValueKind.Object } provider
            ? provider.GetProperty("id").GetGuid()
            : throw new InvalidOperationException($"The provider {slug} is not in the directory (is the Api running with Sandbox:BaseUrl set?).");
    }

    /// <summary>Starts a connect flow; returns the connection id and the provider's authorize url for the patient's browser.</summary>
    public async Task<(Guid ConnectionId, Uri AuthorizeUrl)> StartConnectAsync(Guid patientId, Guid providerId, Uri returnUrl, CancellationToken cancellationToken)
    {
        using var response = await api.PostAsJsonAsync(new Uri($"v1/patients/{patientId}/connections", UriKind.Relative),
            new { providerId, returnUrl = returnUrl.AbsoluteUri }, cancellationToken);
        var body = await ReadAsync(response, cancellationToken);
        return (body.GetProperty("connectionId").GetGuid(), new Uri(body.GetProperty("authorizeUrl").GetString()!));
    }

    /// <summary>Confirms a new connection with the result code its return url carried.</summary>
    public async Task ConfirmAsync(Guid connectionId, string resultCode, CancellationToken cancellationToken)
    {
        using var response = await api.PostAsJsonAsync(new Uri($"v1/connections/{connectionId}/confirm", UriKind.Relative), new { resultCode }, cancellationToken);
        await ReadAsync(response, cancellationToken);
    }

    /// <summary>Waits for the newest sync run of a connection to finish; returns its status.</summary>
    public async Task<string> WaitForSyncAsync(Guid connectionId, TimeSpan limit, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(limit);
        while (true)
        {
            var runs = await GetAsync($"v1/connections/{connectionId}/sync-runs", timeout.Token);
            var status = runs.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("status").GetString()).FirstOrDefault();
            if (status is "succeeded" or "partial" or "failed")
            {
                return status;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), timeout.Token);
        }
    }

    /// <summary>Every item of the record (retracted ones included when asked), category by category, page by page.</summary>
    public async Task<List<JsonElement>> AllItemsAsync(Guid patientId, bool includeRetracted, CancellationToken cancellationToken)
    {
        var record = await GetAsync($"v1/patients/{patientId}/record", cancellationToken);
        var items = new List<JsonElement>();
        foreach (var category in record.GetProperty("categories").EnumerateArray().Select(c => c.GetProperty("category").GetString()!))
        {
            string? cursor = null;
            do
            {
                var page = await GetAsync($"v1/patients/{patientId}/record/{category}?limit=500&includeRetracted={(includeRetracted ? "true" : "false")}"
                    + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)), cancellationToken);
                items.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.Clone()));
                cursor = page.GetProperty("nextCursor").GetString();
            }
            while (cursor is not null);
        }

        return items;
    }

    public async Task<JsonElement> GetAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await api.GetAsync(new Uri(path, UriKind.Relative), cancellationToken);
        return await ReadAsync(response, cancellationToken);
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.AbsolutePath} answered {(int)response.StatusCode}: {body}");
        }

        return JsonDocument.Parse(body).RootElement.Clone();
    }
}

/// <summary>
/// What a patient's browser does in the connect flow, against the sandbox's real pages: opens the
/// authorize url, signs in to the portal form, allows every scope on the consent form, and follows
/// the provider's redirect to Aggregator's callback, which ends on the app's return url.
/// </summary>
public sealed class PatientAgent(Uri sandboxRoot)
{
    /// <summary>Returns the app's return url as Aggregator sent the browser there (with <c>status</c> and <c>reason</c>).</summary>
    public async Task<Uri> ConnectAsync(Uri authorizeUrl, PortalLogin login, CancellationToken cancellationToken)
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() };
        using var browser = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        using var loginPage = await browser.GetAsync(authorizeUrl, cancellationToken);
        var toCallback = loginPage.StatusCode == HttpStatusCode.Found ? loginPage.Headers.Location! : await SignInAsync(browser, loginPage, login, cancellationToken);
        using var callback = await browser.GetAsync(toCallback, cancellationToken);
        return callback.StatusCode is HttpStatusCode.Found or HttpStatusCode.Redirect && callback.Headers.Location is { } landing
            ? landing
            : throw new InvalidOperationException($"Aggregator's callback answered {(int)callback.StatusCode}: {await callback.Content.ReadAsStringAsync(cancellationToken)}");
    }

    /// <summary>The reason Aggregator gave on the return url, or null when it says <c>connected</c>.</summary>
    public static string? Failure(Uri landing)
    {
        ArgumentNullException.ThrowIfNull(landing);
        var query = QueryHelpers.ParseQuery(landing.Query);
        return query["status"] == "connected" ? null : $"{query["status"]}: {query["reason"]}";
    }

    /// <summary>The single-use result code on a <c>connected</c> return url.</summary>
    public static string ResultCode(Uri landing)
    {
        ArgumentNullException.ThrowIfNull(landing);
        return QueryHelpers.ParseQuery(landing.Query).TryGetValue("result_code", out var code) && code.ToString() is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException("The return url carried no result_code.");
    }

    private async Task<Uri> SignInAsync(HttpClient browser, HttpResponseMessage loginPage, PortalLogin login, CancellationToken cancellationToken)
    {
        using var consentPage = await SubmitAsync(browser, loginPage, new Dictionary<string, string> { ["username"] = login.Username, ["password"] = login.Password }, null, cancellationToken);
        if (consentPage.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"The sandbox refused the login {login.Username}: {(int)consentPage.StatusCode}");
        }

        using var decision = await SubmitAsync(browser, consentPage, null, "allow", cancellationToken);
        return decision.StatusCode == HttpStatusCode.Found && decision.Headers.Location is { } location
            ? location
            : throw new InvalidOperationException($"The sandbox's consent page answered {(int)decision.StatusCode}");
    }

    private async Task<HttpResponseMessage> SubmitAsync(HttpClient browser, HttpResponseMessage page, IReadOnlyDictionary<string, string>? values, string? button, CancellationToken cancellationToken)
    {
        var form = HtmlForm.Parse(await page.Content.ReadAsStringAsync(cancellationToken));
        using var content = form.Submit(values, button: button);
        return await browser.PostAsync(new Uri(sandboxRoot, form.Action), content, cancellationToken);
    }
}
