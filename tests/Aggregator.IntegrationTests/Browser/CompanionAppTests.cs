using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aggregator.IntegrationTests.Infrastructure;
using Aggregator.Sandbox.Tests.Hosting;
using Microsoft.Playwright;

namespace Aggregator.IntegrationTests.Browser;

/// <summary>
/// The companion app in a real browser, as a patient uses it: signed in by the tenant's link, connecting providers
/// through hosted Connect, reading one merged record, following a lab test over time, reconnecting and disconnecting.
/// </summary>
public sealed class CompanionAppTests(PostgresServer server, SandboxProvider sandbox, BrowserFixture browser) : IAsyncLifetime
{
    private const string NextGen = "NextGen sandbox (R4)";
    private const string Epic = "Epic sandbox (R4)";

    private readonly LiveSystem _system = new(server, sandbox);

    public ValueTask InitializeAsync() => _system.InitializeAsync();

    public ValueTask DisposeAsync() => _system.DisposeAsync();

    [Fact]
    public async Task A_patient_connects_two_providers_and_reads_one_record_badged_by_both_with_a_lab_trend_in_one_unit_then_disconnects_one()
    {
        var patientId = await PatientAsync("app-two-providers");
        await using var context = await browser.NewContextAsync();
        var page = await SignInAsync(context, patientId);

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Your connections");
        await Assertions.Expect(page.GetByText("No provider is connected yet.")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Connect another provider" }).ClickAsync();
        await ConnectFlow.AcceptAsync(page);
        await _system.ConnectAsync(page, NextGen, "nextgen", _system.Sandbox.Generated("nextgen", "R4", 3));
        await _system.ConnectAsync(page, Epic, "epic", _system.Sandbox.Generated("epic", "R4", 3));
        await Assertions.Expect(page.Locator("[data-field=status]", new() { HasTextString = "records copied" })).ToHaveCountAsync(2, new() { Timeout = 90_000 });
        await page.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();

        // Back in the app, which redeemed the result code for this browser's session: both providers are connected.
        await page.WaitForURLAsync(url => url.Contains("/app?connect=done", StringComparison.Ordinal));
        await Assertions.Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("2 providers connected");
        var providers = page.GetByRole(AriaRole.List, new() { Name = "Connected providers" }).Locator("li > .provider-name");
        await Assertions.Expect(providers).ToHaveTextAsync([NextGen, Epic], new() { UseInnerText = true, Timeout = 10_000 });
        await page.AssertAccessibleAsync("app-home");

        // The record: categories with counts, and items stated by both providers carry both badges.
        await page.GetByRole(AriaRole.Link, new() { Name = "Record", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Your record");
        await Assertions.Expect(page.GetByText($"one record from {NextGen} and {Epic}", new() { Exact = false })).ToBeVisibleAsync();
        var summary = await _system.Tenant.GetJsonAsync($"/v1/patients/{patientId}/record");
        var labCount = summary.GetProperty("categories").EnumerateArray().Single(c => c.GetProperty("category").GetString() == "labs").GetProperty("count").GetInt32();
        await Assertions.Expect(page.GetByRole(AriaRole.Listitem).Filter(new() { HasText = "Lab results" })).ToContainTextAsync(labCount.ToString(CultureInfo.InvariantCulture));
        await page.AssertAccessibleAsync("app-record");
        await page.GetByRole(AriaRole.Link, new() { Name = "Lab results" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Lab results");
        var both = page.GetByRole(AriaRole.List, new() { Name = "Lab results" }).Locator("li")
            .Filter(new() { Has = page.Locator(".badge", new() { HasTextString = NextGen }) })
            .Filter(new() { Has = page.Locator(".badge", new() { HasTextString = Epic }) });
        await Assertions.Expect(both.First).ToBeVisibleAsync();
        await both.First.EvaluateAsync("e => e.scrollIntoView({ block: 'center' })");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "app-record-two-providers.png"), FullPage = false });
        await page.AssertAccessibleAsync("app-labs");

        // One lab test over time: the filter finds glucose; its chart has points from both, every value in one unit.
        await page.GetByLabel("Words or codes").FillAsync("2345-7");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("Words or codes")).ToHaveValueAsync("2345-7");
        Assert.DoesNotContain("2345-7", page.Url, StringComparison.Ordinal);
        await page.GetByRole(AriaRole.List, new() { Name = "Lab results" }).Locator("a.item-name").First.ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "What each provider said" })).ToBeVisibleAsync();
        await page.AssertAccessibleAsync("app-item");
        await page.GetByRole(AriaRole.Link, new() { Name = "See this test over time" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Img)).ToBeVisibleAsync();
        var rows = await page.Locator("table.trend-data tbody tr").AllAsync();
        var points = new List<(string Value, string From)>();
        foreach (var row in rows)
        {
            var cells = await row.Locator("td").AllInnerTextsAsync();
            points.Add((cells[1], cells[2]));
        }

        Assert.True(points.Count >= 2, $"The trend has {points.Count} points.");
        Assert.Contains(points, p => p.From.Contains(NextGen, StringComparison.Ordinal));
        Assert.Contains(points, p => p.From.Contains(Epic, StringComparison.Ordinal));
        Assert.Single(points.Select(p => p.Value.Split(' ', 2)[1]).Distinct());
        Assert.Equal(points.Count, await page.Locator("svg g[data-providers]").CountAsync());
        await Assertions.Expect(page.Locator("svg rect.range")).ToHaveCountAsync(1);
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "app-lab-trend.png"), FullPage = false });
        await page.AssertAccessibleAsync("app-trend");

        // Disconnect Epic: its badges leave the record, and what only it stated is gone.
        await page.GetByRole(AriaRole.Link, new() { Name = "Connections", Exact = true }).ClickAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "app-home-two-providers.png"), FullPage = false });
        await page.GetByText("Disconnect " + Epic).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Disconnect and delete its records" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Disconnected.");
        await Assertions.Expect(providers).ToHaveTextAsync([NextGen], new() { UseInnerText = true });
        await page.GetByRole(AriaRole.Link, new() { Name = "Record", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Lab results" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.List, new() { Name = "Lab results" }).Locator(".badge").First).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator(".badge", new() { HasTextString = Epic })).ToHaveCountAsync(0);
        var remaining = await _system.Tenant.GetJsonAsync($"/v1/patients/{patientId}/record");
        Assert.Equal(1, remaining.GetProperty("sources").GetArrayLength());
    }

    [Fact]
    public async Task A_grant_revoked_at_the_provider_asks_the_patient_to_reconnect_and_reconnecting_restores_syncing_live_on_the_page()
    {
        // A generated person of its own: this test revokes its grant and adds to its record, which no other test may see.
        var login = _system.Sandbox.Generated("nextgen", "R4", 7);
        var (patientId, connectionId) = await _system.Api.ConnectAsync(_system.Tenant, _system.Sandbox, "sandbox-nextgen-r4", login, "app-reconnect");
        await _system.Tenant.WaitForRunAsync(connectionId);
        await _system.Sandbox.Server.InjectFaultAsync(new FaultSpec("nextgen", "revoke-grant") { PatientId = login.PatientId });
        var failed = await _system.Tenant.SyncNowAsync(connectionId);
        Assert.Equal("failed", failed.GetProperty("status").GetString());

        await using var context = await browser.NewContextAsync(narrow: true);
        var page = await SignInAsync(context, patientId);
        var connection = page.Locator($"[data-connection=\"{connectionId}\"]");
        await Assertions.Expect(connection.Locator("[data-field=status]")).ToHaveTextAsync("Needs you to sign in again");
        await Assertions.Expect(connection).ToContainTextAsync($"{NextGen} needs you to sign in again before your records can be updated.");
        await page.AssertAccessibleAsync("app-360-reconnect");

        await page.GetByRole(AriaRole.Button, new() { Name = "Reconnect " + NextGen }).ClickAsync();
        await ConnectFlow.AcceptAsync(page);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in to " + NextGen }).ClickAsync();
        await _system.SignInAtProviderAsync(page, login);
        await page.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();
        await page.WaitForURLAsync(url => url.Contains("/app?connect=done", StringComparison.Ordinal));

        await Assertions.Expect(connection.Locator("[data-field=status]")).ToHaveTextAsync("Connected");
        await Assertions.Expect(connection.GetByRole(AriaRole.Button, new() { Name = "Reconnect " + NextGen })).ToHaveCountAsync(0);
        // Reconnecting started a sync of its own; it succeeds.
        Assert.Equal("succeeded", (await NextRunAsync(connectionId, failed.GetProperty("id").GetGuid())).GetProperty("status").GetString());

        // The provider records something new; a sync started elsewhere shows on the open page as it finishes, without a reload.
        await Assertions.Expect(page.Locator("[data-live=open]")).ToHaveCountAsync(1, new() { Timeout = 20_000 });
        var added = await _system.Sandbox.Server.AddResourceAsync("nextgen", "r4", login.PatientId, new JsonObject
        {
            ["resourceType"] = "Condition",
            ["clinicalStatus"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://terminology.hl7.org/CodeSystem/condition-clinical", ["code"] = "active" }) },
            ["code"] = new JsonObject { ["text"] = "Seasonal allergic rhinitis" },
            ["subject"] = new JsonObject { ["reference"] = $"Patient/{login.PatientId}" },
            ["onsetDateTime"] = "2026-04-01",
        });
        Assert.True(added.IsSuccessStatusCode);
        var run = await _system.Tenant.SyncNowAsync(connectionId);
        Assert.Equal("succeeded", run.GetProperty("status").GetString());
        await Assertions.Expect(connection.Locator("[data-field=progress]")).ToContainTextAsync("Up to date", new() { Timeout = 20_000 });
        var conditions = await _system.Tenant.GetJsonAsync($"/v1/patients/{patientId}/record/conditions?q=rhinitis");
        Assert.Equal(1, conditions.GetProperty("items").GetArrayLength());
        await Assertions.Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Your record has new information" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Every_page_works_by_keyboard_passes_an_accessibility_scan_and_fits_a_phone()
    {
        var login = _system.Sandbox.Login("epic", "R4", 2);
        var (patientId, connectionId) = await _system.Api.ConnectAsync(_system.Tenant, _system.Sandbox, "sandbox-epic-r4", login, "app-keyboard");
        await _system.Tenant.WaitForRunAsync(connectionId);
        var labs = await _system.Tenant.GetJsonAsync($"/v1/patients/{patientId}/record/labs?limit=1");
        var lab = labs.GetProperty("items")[0].GetProperty("id").GetGuid();
        await using var context = await browser.NewContextAsync(narrow: true);
        var page = await SignInAsync(context, patientId);

        // Focus starts on the page's heading (read first by a screen reader); back before the navigation is the skip
        // link, which moves focus to the content. Each step of the way is visible.
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToBeFocusedAsync();
        var skip = page.GetByRole(AriaRole.Link, new() { Name = "Skip to main content" });
        for (var i = 0; i < 8 && !await skip.EvaluateAsync<bool>("e => e === document.activeElement"); i++)
        {
            await page.Keyboard.PressAsync("Shift+Tab");
        }

        await Assertions.Expect(skip).ToBeFocusedAsync();
        Assert.NotEqual("none", await page.EvaluateAsync<string>("() => getComputedStyle(document.activeElement).outlineStyle"));
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator("main")).ToBeFocusedAsync();

        // Through the navigation by keyboard alone, to the record, into a category, and on to an item.
        await page.GetByRole(AriaRole.Link, new() { Name = "Record", Exact = true }).FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Your record");
        await TabToLinkAsync(page, "Lab results");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Lab results");
        await TabToAsync(page, "a.item-name");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "What each provider said" })).ToBeVisibleAsync();

        // Every page of the app: no serious or critical axe violation, and nothing scrolls sideways at 360 px.
        (string Path, string Name)[] pages =
        [
            ("/app", "home"), ("/app/record", "record"), ("/app/record/labs", "labs"), ("/app/record/conditions", "conditions"),
            ($"/app/items/{lab}", "item"), ($"/app/trends/{lab}", "trend"), ("/app/timeline", "timeline"), ("/app/access", "access"),
        ];
        foreach (var (path, name) in pages)
        {
            await page.GotoAsync(new Uri(_system.WebUrl, path).AbsoluteUri);
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToBeVisibleAsync();
            await Assertions.Expect(page.GetByText("Loading…")).ToHaveCountAsync(0);
            await page.AssertAccessibleAsync("app-360-" + name);
            var overflow = await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth > document.documentElement.clientWidth");
            Assert.False(overflow, $"{path} scrolls sideways at 360 px.");
        }

        // No patient data in the address bar or in the browser's storage; the session cookie is out of the page's reach.
        Assert.Equal(0, await page.EvaluateAsync<int>("() => localStorage.length + sessionStorage.length"));
        var cookie = Assert.Single(await context.CookiesAsync(), c => c.Name == "agg_session");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Lax, cookie.SameSite);
    }

    [Fact]
    public async Task Sign_in_moves_the_token_into_a_cookie_and_a_bad_or_missing_session_signs_out()
    {
        var patientId = await PatientAsync("app-sign-in");
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync();
        page.WatchForErrors();

        var token = await _system.SessionTokenAsync(patientId);
        var response = await page.GotoAsync(new Uri(_system.WebUrl, "app/start?session=" + Uri.EscapeDataString(token)).AbsoluteUri);
        // The link's token leaves the address bar at once, but signs no one in before the patient says it is theirs.
        Assert.Equal(new Uri(_system.WebUrl, "app/welcome").AbsoluteUri, page.Url);
        Assert.DoesNotContain(token, page.Url, StringComparison.Ordinal);
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "agg_session");
        var headers = await response!.AllHeadersAsync();
        Assert.Contains("frame-ancestors 'none'", headers["content-security-policy"], StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", headers["content-security-policy"], StringComparison.Ordinal);
        Assert.Equal("no-referrer", headers["referrer-policy"]);
        await Assertions.Expect(page.GetByText("a new record, with no provider connected yet")).ToBeVisibleAsync();
        await page.AssertAccessibleAsync("app-welcome");
        await page.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Your connections");
        Assert.Equal(token, Assert.Single(await context.CookiesAsync(), c => c.Name == "agg_session").Value);
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "agg_pending_session");

        // Signing out ends it in this browser.
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("You are signed out");
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "agg_session");
        await page.GotoAsync(new Uri(_system.WebUrl, "app/record").AbsoluteUri);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("You are not signed in");

        // A token that is not one signs no one in.
        await page.GotoAsync(new Uri(_system.WebUrl, "app/start?session=agg_sess_not-a-token").AbsoluteUri);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("You are signed out");
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "agg_session");
        await page.AssertAccessibleAsync("app-signed-out");
    }

    [Fact]
    public async Task A_sign_in_link_someone_else_made_signs_no_one_in_until_the_patient_sees_whose_record_it_opens_and_continues()
    {
        // The victim is signed in to their own record; the attacker's link opens a record with another name (login CSRF).
        var victim = await PatientAsync("app-csrf-victim");
        var (attacker, attackerConnection) = await _system.Api.ConnectAsync(_system.Tenant, _system.Sandbox, "sandbox-nextgen-r4", _system.Sandbox.Login("nextgen", "R4", 1), "app-csrf-attacker");
        await _system.Tenant.WaitForRunAsync(attackerConnection);
        var attackerName = (await _system.Tenant.GetJsonAsync($"/v1/patients/{attacker}/record")).GetProperty("demographics").GetProperty("names")[0].GetString()!;
        await using var context = await browser.NewContextAsync();
        var page = await SignInAsync(context, victim);
        var victimToken = Assert.Single(await context.CookiesAsync(), c => c.Name == "agg_session").Value;

        var attackerToken = await _system.SessionTokenAsync(attacker);
        await page.GotoAsync(new Uri(_system.WebUrl, "app/start?session=" + Uri.EscapeDataString(attackerToken)).AbsoluteUri);
        await Assertions.Expect(page.GetByText(attackerName)).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("This browser is signed in to another record.")).ToBeVisibleAsync();
        Assert.Equal(victimToken, Assert.Single(await context.CookiesAsync(), c => c.Name == "agg_session").Value);

        // A page elsewhere that posts the confirmation itself has no antiforgery token: refused, nothing changes.
        var forged = await page.APIRequest.PostAsync(new Uri(_system.WebUrl, "app/start").AbsoluteUri, new() { Form = page.APIRequest.CreateFormData().Set("decision", "continue"), MaxRedirects = 0 });
        Assert.Equal(400, forged.Status);
        Assert.Equal(victimToken, Assert.Single(await context.CookiesAsync(), c => c.Name == "agg_session").Value);

        // The victim sees a name that is not theirs and says so: the link is dropped, their own session goes on.
        await page.GetByRole(AriaRole.Button, new() { Name = "This is not me" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Your connections");
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "agg_pending_session");
        Assert.Equal(victimToken, Assert.Single(await context.CookiesAsync(), c => c.Name == "agg_session").Value);
        await page.GotoAsync(new Uri(_system.WebUrl, "app/welcome").AbsoluteUri);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("You are not signed in");

        // Continue confirms the record the page showed: a link opened behind it (another tab, a script's navigation) is shown first.
        var ownToken = await _system.SessionTokenAsync(victim);
        await page.GotoAsync(new Uri(_system.WebUrl, "app/start?session=" + Uri.EscapeDataString(ownToken)).AbsoluteUri);
        await page.APIRequest.GetAsync(new Uri(_system.WebUrl, "app/start?session=" + Uri.EscapeDataString(attackerToken)).AbsoluteUri, new() { MaxRedirects = 0 });
        await page.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
        await Assertions.Expect(page.GetByText(attackerName)).ToBeVisibleAsync();
        Assert.Equal(victimToken, Assert.Single(await context.CookiesAsync(), c => c.Name == "agg_session").Value);
    }

    [Fact]
    public async Task A_plain_text_document_opens_in_the_browser_an_html_one_is_only_downloaded_and_the_download_is_a_fhir_bundle()
    {
        // A generated person of its own: the notes added here must not show in any other test's record.
        var login = _system.Sandbox.Generated("epic", "R4", 8);
        // Two notes the provider sent: one plain text, one HTML page that would run a script if the browser showed it.
        await _system.Sandbox.AddNoteAsync(login, "text/plain", "Follow-up in six weeks.", "Visit note");
        await _system.Sandbox.AddNoteAsync(login, "text/html", "<html><body><script>document.title='ran'</script><p>Discharge letter</p></body></html>", "Discharge letter");
        var (patientId, connectionId) = await _system.Api.ConnectAsync(_system.Tenant, _system.Sandbox, "sandbox-epic-r4", login, "app-documents");
        await _system.Tenant.WaitForRunAsync(connectionId);
        await using var context = await browser.NewContextAsync();
        var page = await SignInAsync(context, patientId);

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "Download my record" }).First.ClickAsync());
        await using (var stream = await download.CreateReadStreamAsync())
        {
            using var bundle = await JsonDocument.ParseAsync(stream, cancellationToken: TestContext.Current.CancellationToken);
            Assert.Equal("Bundle", bundle.RootElement.GetProperty("resourceType").GetString());
            Assert.Contains(bundle.RootElement.GetProperty("entry").EnumerateArray(), e => e.GetProperty("resource").GetProperty("resourceType").GetString() == "DocumentReference");
        }

        await page.GotoAsync(new Uri(_system.WebUrl, "app/record/documents").AbsoluteUri);
        await page.GetByRole(AriaRole.Link, new() { Name = "Visit note" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Open the document" }).ClickAsync();
        await Assertions.Expect(page.GetByText("Follow-up in six weeks.")).ToBeVisibleAsync();
        Assert.StartsWith(new Uri(_system.WebUrl, "app/documents/").AbsoluteUri, page.Url, StringComparison.Ordinal);

        await page.GotoAsync(new Uri(_system.WebUrl, "app/record/documents").AbsoluteUri);
        await page.GetByRole(AriaRole.Link, new() { Name = "Discharge letter" }).ClickAsync();
        var letter = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "Open the document" }).ClickAsync());
        Assert.Equal("document", letter.SuggestedFilename);
        // The page the browser stayed on is ours; the letter's script never ran.
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Discharge letter");
        Assert.NotEqual("ran", await page.TitleAsync());
        var answer = await page.APIRequest.GetAsync(page.Url.Replace("/app/items/", "/app/documents/", StringComparison.Ordinal));
        Assert.Equal("nosniff", answer.Headers["x-content-type-options"]);
        Assert.StartsWith("attachment", answer.Headers["content-disposition"], StringComparison.Ordinal);
        Assert.Contains("sandbox", answer.Headers["content-security-policy"], StringComparison.Ordinal);
    }

    private async Task<Guid> PatientAsync(string externalId) => (await _system.Tenant.PutPatientAsync(externalId)).GetProperty("id").GetGuid();

    /// <summary>Opens the sign-in link the tenant's backend would hand its frontend, as the run command prints one.</summary>
    /// <summary>The first run of the connection after <paramref name="previousRunId"/>, once it has finished.</summary>
    private async Task<JsonElement> NextRunAsync(Guid connectionId, Guid previousRunId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var newest = (await _system.Tenant.GetJsonAsync($"/v1/connections/{connectionId}/sync-runs")).GetProperty("items")[0];
            if (newest.GetProperty("id").GetGuid() != previousRunId && newest.GetProperty("status").GetString() is "succeeded" or "partial" or "failed")
            {
                return newest;
            }

            Assert.False(timeout.IsCancellationRequested, $"No run after {previousRunId} finished in time.");
            await Task.Delay(200, CancellationToken.None);
        }
    }

    private async Task<IPage> SignInAsync(IBrowserContext context, Guid patientId)
    {
        var token = await _system.SessionTokenAsync(patientId);
        var page = await context.NewPageAsync();
        page.WatchForErrors();
        await page.GotoAsync(new Uri(_system.WebUrl, "app/start?session=" + Uri.EscapeDataString(token)).AbsoluteUri);
        await page.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Your connections");
        return page;
    }

    private static Task TabToLinkAsync(IPage page, string name) =>
        TabUntilAsync(page, $"() => document.activeElement.tagName === 'A' && document.activeElement.textContent.trim() === {JsonSerializer.Serialize(name)}", name);

    private static Task TabToAsync(IPage page, string selector) =>
        TabUntilAsync(page, $"() => document.activeElement.matches({JsonSerializer.Serialize(selector)})", selector);

    private static async Task TabUntilAsync(IPage page, string predicate, string what)
    {
        for (var i = 0; i < 60; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            if (await page.EvaluateAsync<bool>(predicate))
            {
                Assert.NotEqual("none", await page.EvaluateAsync<string>("() => getComputedStyle(document.activeElement).outlineStyle"));
                return;
            }
        }

        Assert.Fail($"Tab never reached {what}.");
    }
}
