using Aggregator.IntegrationTests.Infrastructure;
using Microsoft.Playwright;

namespace Aggregator.IntegrationTests.Browser;

/// <summary>What a patient does on the hosted Connect page and at the provider, shared by the browser tests.</summary>
public static class ConnectFlow
{
    /// <summary>Accepts the data-use statement.</summary>
    public static async Task AcceptAsync(IPage page)
    {
        await page.GetByLabel("I have read how my records will be used and I agree").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
    }

    /// <summary>Searches, picks the provider, signs in on its own pages, and waits to be back on the Connect page, connected.</summary>
    public static async Task ConnectAsync(this LiveSystem system, IPage page, string providerName, string persona, SandboxLogin login)
    {
        await page.GetByLabel("Provider name, health system or city").FillAsync(persona);
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Connect " + providerName, Exact = true }).ClickAsync();
        await system.SignInAtProviderAsync(page, login);
        await Assertions.Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("You are connected");
    }

    /// <summary>Signs in and allows access on the sandbox's own pages, then waits to be back on the web app.</summary>
    public static async Task SignInAtProviderAsync(this LiveSystem system, IPage page, SandboxLogin login)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(login);
        // As long as the way back below: at the start of a full run the three hosts, the browser and the other test
        // projects share two cores, and this first page once took over the default 60 s to load.
        await page.WaitForURLAsync(url => url.StartsWith(system.Sandbox.Root.AbsoluteUri, StringComparison.Ordinal), new() { Timeout = 90_000 });
        await page.Locator("#username").FillAsync(login.Username);
        await page.Locator("#password").FillAsync(login.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Allow" }).ClickAsync();
        // Back on the web app; what it shows is awaited by the caller (the Connect page streams while the first sync runs).
        await page.WaitForURLAsync(url => url.StartsWith(system.WebUrl.AbsoluteUri, StringComparison.Ordinal), new() { WaitUntil = WaitUntilState.Commit, Timeout = 90_000 });
    }
}
