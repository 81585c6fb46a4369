using System.Net;
using Aggregator.Sandbox.Demo;

namespace Aggregator.IntegrationTests.Infrastructure;

/// <summary>
/// What a patient's browser does in the connect flow: opens the authorize url, signs in to the
/// sandbox's portal form, answers the consent form, and follows the redirect to our callback.
/// </summary>
public sealed class PatientBrowser(Uri sandboxRoot, Func<HttpClient> sandboxClient, HttpClient api)
{
    public PatientBrowser(SandboxProvider sandbox, HttpClient api)
        : this(sandbox?.Root ?? throw new ArgumentNullException(nameof(sandbox)), sandbox.CreateClient, api)
    {
    }

    /// <summary>At a sandbox of a test's own.</summary>
    public PatientBrowser(Aggregator.Sandbox.Tests.Hosting.SandboxServer sandbox, HttpClient api)
        : this(sandbox?.Root ?? throw new ArgumentNullException(nameof(sandbox)), sandbox.CreateClient, api)
    {
    }

    /// <summary>Runs the provider part; returns where the provider sends the browser (our callback url).</summary>
    public async Task<Uri> AuthorizeAsync(Uri authorizeUrl, SandboxLogin login, bool allow = true, Func<string, bool>? keepScope = null)
    {
        using var browser = sandboxClient();
        using var loginPage = await browser.GetAsync(authorizeUrl);
        if (loginPage.StatusCode == HttpStatusCode.Found)
        {
            return loginPage.Headers.Location!;
        }

        Assert.Equal(HttpStatusCode.OK, loginPage.StatusCode);
        using var consentPage = await SubmitAsync(browser, loginPage, new Dictionary<string, string> { ["username"] = login.Username, ["password"] = login.Password });
        Assert.Equal(HttpStatusCode.OK, consentPage.StatusCode);
        using var decision = await SubmitAsync(browser, consentPage, tick: c => keepScope?.Invoke(c.Value) ?? c.Checked, button: allow ? "allow" : "deny");
        Assert.Equal(HttpStatusCode.Found, decision.StatusCode);
        return decision.Headers.Location!;
    }

    /// <summary>Delivers the provider's redirect to our callback; returns where we send the browser (the tenant's return url).</summary>
    public async Task<Uri> CallbackAsync(Uri callbackUrl)
    {
        using var response = await api.GetAsync(new Uri(callbackUrl.PathAndQuery, UriKind.Relative));
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"The callback {callbackUrl.AbsolutePath} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return response.Headers.Location!;
    }

    /// <summary>The whole flow: authorize, sign in, consent, callback.</summary>
    public async Task<Uri> ConnectAsync(Uri authorizeUrl, SandboxLogin login, bool allow = true, Func<string, bool>? keepScope = null) =>
        await CallbackAsync(await AuthorizeAsync(authorizeUrl, login, allow, keepScope));

    private async Task<HttpResponseMessage> SubmitAsync(HttpClient browser, HttpResponseMessage page, IReadOnlyDictionary<string, string>? values = null,
        Func<HtmlForm.Checkbox, bool>? tick = null, string? button = null)
    {
        var form = HtmlForm.Parse(await page.Content.ReadAsStringAsync());
        return await browser.PostAsync(new Uri(sandboxRoot, form.Action), form.Submit(values, tick, button));
    }
}
