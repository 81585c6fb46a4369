using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aggregator.Infrastructure.Tenants;
using Aggregator.IntegrationTests.Infrastructure;
using Aggregator.Sandbox.Tests.Hosting;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Aggregator.IntegrationTests.Browser;

/// <summary>
/// The hosted Connect page in a real browser: a partner's backend creates a link session, the patient links
/// providers through their own login pages and presses Done (or Cancel), and the backend exchanges the code.
/// </summary>
public sealed class ConnectPageTests(PostgresServer server, SandboxProvider sandbox, BrowserFixture browser) : IAsyncLifetime
{
    private readonly LiveSystem _system = new(server, sandbox, verboseLogs: true);

    public ValueTask InitializeAsync() => _system.InitializeAsync();

    public ValueTask DisposeAsync() => _system.DisposeAsync();

    [Fact]
    public async Task A_patient_links_an_r4_and_a_dstu2_provider_presses_done_and_the_backend_exchange_activates_both()
    {
        var patientId = await PatientAsync("connect-two");
        var session = await CreateSessionAsync(patientId);
        await using var context = await browser.NewContextAsync();
        var page = await OpenAsync(context, session.Url);

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Coral Health wants to connect to your health records");
        await page.AssertAccessibleAsync("connect-1-statement");
        await page.GetByLabel("I have read how my records will be used and I agree").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
        await page.AssertAccessibleAsync("connect-2-search");

        await _system.ConnectAsync(page, "Epic sandbox (R4)", "epic", _system.Sandbox.Generated("epic", "R4", 5));
        await WaitForCopiedAsync(page, 1);
        await page.AssertAccessibleAsync("connect-3-first-connected");
        await _system.ConnectAsync(page, "NextGen sandbox (DSTU2)", "nextgen", _system.Sandbox.Generated("nextgen", "DSTU2", 5));
        await WaitForCopiedAsync(page, 2);
        await page.AssertAccessibleAsync("connect-4-two-connected");

        await page.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();
        var landing = await ReturnedAsync(page);

        Assert.Equal(session.Id.ToString(), landing["link_session_id"]);
        Assert.Equal("completed", landing["status"]);
        // The partner's backend exchanges the code: both connections become active and the record shows them.
        var exchanged = await _system.Tenant.PostAsJsonAsync(new Uri($"/v1/link-sessions/{session.Id}/exchange", UriKind.Relative),
            new { resultCode = landing["result_code"].ToString() }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, exchanged.StatusCode);
        var connections = (await exchanged.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("connections").EnumerateArray().ToList();
        Assert.Equal(2, connections.Count);
        Assert.All(connections, c => Assert.Equal("active", c.GetProperty("status").GetString()));
        var record = await _system.Tenant.GetJsonAsync($"/v1/patients/{patientId}/record");
        Assert.Equal(2, record.GetProperty("sources").GetArrayLength());
        var again = await _system.Tenant.PostAsJsonAsync(new Uri($"/v1/link-sessions/{session.Id}/exchange", UriKind.Relative),
            new { resultCode = landing["result_code"].ToString() }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);

        // Neither the Api nor the web app logged the link token, the page's credential or the result code, even at debug level.
        var credential = (await context.CookiesAsync()).Single(c => c.Name == "agg_link").Value;
        _system.Logs.AssertHoldsNone(new Dictionary<string, string?>
        {
            ["the link token"] = QueryHelpers.ParseQuery(new Uri(session.Url).Query)["token"].ToString(),
            ["the link credential"] = credential,
            ["the result code"] = landing["result_code"].ToString(),
        });
        Assert.Contains(_system.Logs.Texts(), text => text.Contains("/connect/start", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cancel_returns_cancelled_and_revokes_what_the_session_connected_at_the_provider()
    {
        var patientId = await PatientAsync("connect-cancel");
        var session = await CreateSessionAsync(patientId);
        await using var context = await browser.NewContextAsync(narrow: true);
        var page = await OpenAsync(context, session.Url);
        await ConnectFlow.AcceptAsync(page);
        var login = _system.Sandbox.Login("epic", "R4", 0);
        await _system.ConnectAsync(page, "Epic sandbox (R4)", "epic", login);
        await WaitForCopiedAsync(page, 1);
        await page.AssertAccessibleAsync("connect-360-connected");
        var connectionId = (await _system.Tenant.GetJsonAsync($"/v1/patients/{patientId}/connections")).GetProperty("items")[0].GetProperty("id").GetGuid();
        var tokens = await StoredTokensAsync(connectionId);

        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel and return to Coral Health" }).ClickAsync();
        var landing = await ReturnedAsync(page);

        Assert.Equal("cancelled", landing["status"]);
        Assert.False(landing.ContainsKey("result_code"));
        var gone = await _system.Tenant.GetAsync(new Uri($"/v1/connections/{connectionId}", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        using var fhir = _system.Sandbox.CreateClient();
        using var read = new HttpRequestMessage(HttpMethod.Get, new Uri(_system.Sandbox.Root, $"epic/fhir/r4/Patient/{login.PatientId}"));
        read.Headers.Authorization = new("Bearer", tokens);
        Assert.Equal(HttpStatusCode.Unauthorized, (await fhir.SendAsync(read, TestContext.Current.CancellationToken)).StatusCode);
        // The link works once.
        var reopened = await page.GotoAsync(session.Url);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("This link cannot be used");
        Assert.NotNull(reopened);
    }

    [Fact]
    public async Task A_patient_who_denies_at_the_provider_sees_why_and_returns_with_status_error_and_the_reason()
    {
        var session = await CreateSessionAsync(await PatientAsync("connect-deny"));
        await using var context = await browser.NewContextAsync(narrow: true);
        var page = await OpenAsync(context, session.Url);
        await ConnectFlow.AcceptAsync(page);
        await page.GetByLabel("Provider name, health system or city").FillAsync("epic");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Connect Epic sandbox (R4)", Exact = true }).ClickAsync();
        await page.WaitForURLAsync(url => url.StartsWith(_system.Sandbox.Root.AbsoluteUri, StringComparison.Ordinal));
        var login = _system.Sandbox.Login("epic", "R4", 1);
        await page.Locator("#username").FillAsync(login.Username);
        await page.Locator("#password").FillAsync(login.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Deny" }).ClickAsync();
        await page.WaitForURLAsync(url => url.StartsWith(_system.WebUrl.AbsoluteUri, StringComparison.Ordinal));

        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("You did not allow access at your provider");
        await page.AssertAccessibleAsync("connect-360-denied");
        await page.GetByRole(AriaRole.Button, new() { Name = "Return to Coral Health", Exact = true }).ClickAsync();
        var landing = await ReturnedAsync(page);

        Assert.Equal("error", landing["status"]);
        Assert.Equal("access_denied", landing["reason"]);
        Assert.Equal(session.Id.ToString(), landing["link_session_id"]);
    }

    [Fact]
    public async Task Update_mode_reauthorises_a_connection_whose_grant_the_provider_revoked()
    {
        // A generated person of its own: its grant is revoked here, which no other test may meet.
        var login = _system.Sandbox.Generated("cerner", "R4", 6);
        var (patientId, connectionId) = await _system.Api.ConnectAsync(_system.Tenant, _system.Sandbox, "sandbox-cerner-r4", login, "connect-update");
        await _system.Tenant.WaitForRunAsync(connectionId);
        await _system.Sandbox.Server.InjectFaultAsync(new FaultSpec("cerner", "revoke-grant") { PatientId = login.PatientId });
        var failed = await _system.Tenant.SyncNowAsync(connectionId);
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Equal("reauth_required", (await _system.Tenant.GetJsonAsync($"/v1/connections/{connectionId}")).GetProperty("status").GetString());
        var session = await CreateSessionAsync(patientId, connectionId);
        await using var context = await browser.NewContextAsync();
        var page = await OpenAsync(context, session.Url);
        await ConnectFlow.AcceptAsync(page);

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Reconnect Cerner (Oracle Health) sandbox (R4)" })).ToBeVisibleAsync();
        await page.AssertAccessibleAsync("connect-update");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in to Cerner (Oracle Health) sandbox (R4)" }).ClickAsync();
        await _system.SignInAtProviderAsync(page, login);
        await page.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();
        var landing = await ReturnedAsync(page);

        Assert.Equal("completed", landing["status"]);
        var exchanged = await _system.Tenant.PostAsJsonAsync(new Uri($"/v1/link-sessions/{session.Id}/exchange", UriKind.Relative),
            new { resultCode = landing["result_code"].ToString() }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, exchanged.StatusCode);
        Assert.Equal("active", (await _system.Tenant.GetJsonAsync($"/v1/connections/{connectionId}")).GetProperty("status").GetString());
        Assert.Equal("succeeded", (await _system.Tenant.SyncNowAsync(connectionId)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_page_works_by_keyboard_alone_shows_focus_and_fits_a_phone()
    {
        var session = await CreateSessionAsync(await PatientAsync("connect-keyboard"));
        await using var context = await browser.NewContextAsync(narrow: true);
        var page = await OpenAsync(context, session.Url);

        // Focus starts on the page's heading (so a screen reader reads it first); Tab goes on to the statement's checkbox and Continue.
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToBeFocusedAsync();
        await TabToAsync(page, "accept");
        Assert.NotEqual("none", await page.EvaluateAsync<string>("() => getComputedStyle(document.activeElement).outlineStyle"));
        await page.Keyboard.PressAsync("Space");
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByLabel("Provider name, health system or city")).ToBeVisibleAsync();
        await page.AssertAccessibleAsync("connect-360-search");

        await TabToAsync(page, "query");
        await page.Keyboard.TypeAsync("epic");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Connect Epic sandbox (R4)" })).ToBeVisibleAsync();
        var overflow = await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth > document.documentElement.clientWidth");
        Assert.False(overflow, "The page scrolls sideways at 360 px.");
        await TabToAsync(page, null, name: "Connect Epic sandbox (R4)");
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync(url => url.StartsWith(_system.Sandbox.Root.AbsoluteUri, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_page_sends_strict_security_headers_and_a_session_url_needs_its_own_browser()
    {
        var session = await CreateSessionAsync(await PatientAsync("connect-headers"));
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync();
        var response = await page.GotoAsync(session.Url);
        var headers = await response!.AllHeadersAsync();

        Assert.Contains("frame-ancestors 'none'", headers["content-security-policy"], StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", headers["content-security-policy"], StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", headers["content-security-policy"], StringComparison.Ordinal);
        Assert.Equal("no-referrer", headers["referrer-policy"]);
        Assert.Equal("nosniff", headers["x-content-type-options"]);
        // The token left the address bar, and the page stores nothing in the browser but its http-only cookie.
        Assert.DoesNotContain("token=", page.Url, StringComparison.Ordinal);
        Assert.Equal(0, await page.EvaluateAsync<int>("() => localStorage.length + sessionStorage.length"));
        var cookies = await context.CookiesAsync();
        Assert.All(cookies.Where(c => c.Name == "agg_link"), c => Assert.True(c.HttpOnly));
        // Another browser that gets hold of the session's page address sees nothing of it.
        await using var other = await browser.NewContextAsync();
        var stranger = await other.NewPageAsync();
        await stranger.GotoAsync(page.Url);
        await Assertions.Expect(stranger.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("This Connect page cannot be shown");
    }

    [Fact]
    public async Task The_page_names_the_tenant_by_the_display_name_and_logo_its_operator_gave()
    {
        await using (var scope = _system.Api.Services.CreateOperatorScope())
        {
            // What `tenants update --display-name --logo-url` does.
            await scope.ServiceProvider.GetRequiredService<TenantAdministration>().UpdateTenantAsync(_system.TenantKey.TenantId,
                new TenantSettings([LiveSystem.ReturnUrl, new Uri(_system.WebUrl, "app/connected").AbsoluteUri], null, null, "Coral Family Clinic", new Uri("https://coral.example/logo.png")),
                TestContext.Current.CancellationToken);
        }

        var session = await CreateSessionAsync(await PatientAsync("connect-brand"));
        await using var context = await browser.NewContextAsync();
        var page = await OpenAsync(context, session.Url);

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Coral Family Clinic wants to connect to your health records");
        await Assertions.Expect(page.Locator("section.requester img")).ToHaveAttributeAsync("src", "https://coral.example/logo.png");
        await Assertions.Expect(page).ToHaveTitleAsync("Connect your health records to Coral Family Clinic");
    }

    private async Task<Guid> PatientAsync(string externalId) => (await _system.Tenant.PutPatientAsync(externalId)).GetProperty("id").GetGuid();

    private async Task<(Guid Id, string Url)> CreateSessionAsync(Guid patientId, Guid? connectionId = null)
    {
        var response = await _system.Tenant.PostAsJsonAsync(new Uri($"/v1/patients/{patientId}/link-sessions", UriKind.Relative),
            new { returnUrl = LiveSystem.ReturnUrl, connectionId });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var url = body.GetProperty("url").GetString()!;
        Assert.StartsWith(_system.WebUrl.AbsoluteUri, url, StringComparison.Ordinal);
        Assert.DoesNotContain("agg_test_", url, StringComparison.Ordinal);
        return (body.GetProperty("id").GetGuid(), url);
    }

    private static async Task<IPage> OpenAsync(IBrowserContext context, string url)
    {
        // The partner's return url is not a real site: the test answers it.
        await context.RouteAsync("https://coral.example/**", route => route.FulfillAsync(new RouteFulfillOptions
        {
            Status = 200,
            ContentType = "text/html",
            Body = "<!doctype html><html lang=\"en\"><title>Coral Health</title><h1>Back at Coral Health</h1></html>",
        }));
        var page = await context.NewPageAsync();
        page.WatchForErrors();
        await page.GotoAsync(url);
        return page;
    }

    /// <summary>Waits (through the page's live progress, without reloading) until at least <paramref name="count"/> first copies finished.</summary>
    private static async Task WaitForCopiedAsync(IPage page, int count)
    {
        try
        {
            await Assertions.Expect(page.Locator("[data-field=status]", new() { HasTextString = "records copied" }))
                .ToHaveCountAsync(count, new() { Timeout = 90_000 });
        }
        catch (PlaywrightException)
        {
            Console.WriteLine("PAGE: " + await page.ContentAsync());
            Console.WriteLine("PROGRESS: " + await (await page.APIRequest.GetAsync(page.Url.Split('?')[0] + "/progress")).TextAsync());
            throw;
        }
    }

    private async Task<Dictionary<string, Microsoft.Extensions.Primitives.StringValues>> ReturnedAsync(IPage page)
    {
        await page.WaitForURLAsync(url => url.StartsWith(LiveSystem.ReturnUrl, StringComparison.Ordinal));
        return QueryHelpers.ParseQuery(new Uri(page.Url).Query);
    }

    private async Task<string> StoredTokensAsync(Guid connectionId)
    {
        await using var db = _system.Database.CreateContext();
        var stored = db.Connections.Single(c => c.Id == connectionId).TokenSetProtected!;
        var secrets = (Aggregator.Infrastructure.Secrets.SecretProtector)_system.Api.Services.GetService(typeof(Aggregator.Infrastructure.Secrets.SecretProtector))!;
        return Aggregator.Infrastructure.Connections.TokenSet.Unprotect(secrets, stored).AccessToken;
    }

    /// <summary>Presses Tab until the element with <paramref name="id"/> (or the button named <paramref name="name"/>) has focus.</summary>
    private static async Task TabToAsync(IPage page, string? id, string? name = null)
    {
        for (var i = 0; i < 40; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            var focused = await page.EvaluateAsync<string[]>("() => [document.activeElement.id, document.activeElement.getAttribute('aria-label') ?? '']");
            if ((id is not null && focused[0] == id) || (name is not null && focused[1] == name))
            {
                return;
            }
        }

        Assert.Fail($"Tab never reached {id ?? name}.");
    }
}
