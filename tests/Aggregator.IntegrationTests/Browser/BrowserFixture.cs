using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

[assembly: AssemblyFixture(typeof(Aggregator.IntegrationTests.Browser.BrowserFixture))]

namespace Aggregator.IntegrationTests.Browser;

/// <summary>
/// One Chromium for the whole test assembly: Debian's <c>chromium</c> package (or <c>AGGREGATOR_CHROMIUM</c>),
/// driven by Playwright. Nothing downloads a browser; a machine without one fails with how to install it.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("The browser has not started.");

    /// <summary>Where screenshots go: beside the test results.</summary>
    public static string ScreenshotFolder { get; } = Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots");

    public async ValueTask InitializeAsync()
    {
        var executable = Environment.GetEnvironmentVariable("AGGREGATOR_CHROMIUM") is { Length: > 0 } configured ? configured : "/usr/bin/chromium";
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException(
                $"The browser tests need Chromium at {executable}: install Debian's package (apt-get install chromium fonts-liberation; ./test.sh does) or set AGGREGATOR_CHROMIUM.");
        }

        Directory.CreateDirectory(ScreenshotFolder);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = executable,
            Headless = true,
            // Root in CI has no user namespaces for Chromium's sandbox; the machine's closed network refuses background calls.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }

    /// <summary>A fresh browser context (its own cookies), phone-sized when <paramref name="narrow"/>.</summary>
    public async Task<IBrowserContext> NewContextAsync(bool narrow = false)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = narrow ? new ViewportSize { Width = 360, Height = 780 } : new ViewportSize { Width = 1280, Height = 900 },
            Locale = "en-US",
        });
        // The whole suite shares two cores with PostgreSQL, the Api, the sandbox and their syncs: be patient.
        context.SetDefaultTimeout(60_000);
        return context;
    }
}

/// <summary>
/// What every browser test checks of a page: no serious or critical accessibility violation, no script error
/// or console error (a Content-Security-Policy violation shows as one), and a screenshot kept.
/// </summary>
public static class PageChecks
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IPage, List<string>> Errors = new();

    /// <summary>Starts collecting the page's console errors and uncaught script errors (of our pages; the provider's are not ours).</summary>
    public static void WatchForErrors(this IPage page)
    {
        ArgumentNullException.ThrowIfNull(page);
        var errors = Errors.GetOrCreateValue(page);
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && !IsProviderPage(page))
            {
                errors.Add($"{page.Url}: {message.Text}");
            }
        };
        page.PageError += (_, error) => errors.Add($"{page.Url}: {error}");
    }

    public static async Task AssertAccessibleAsync(this IPage page, string name)
    {
        ArgumentNullException.ThrowIfNull(page);
        if (Errors.TryGetValue(page, out var errors))
        {
            Assert.True(errors.Count == 0, $"{name}: the browser reported errors: " + string.Join(" | ", errors));
        }

        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, name + ".png"), FullPage = true });
        var results = await page.RunAxe();
        var serious = results.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
        Assert.True(serious.Count == 0, $"{name}: " + string.Join("; ", serious.Select(Describe)));
    }

    private static bool IsProviderPage(IPage page) => !page.Url.Contains("/connect", StringComparison.Ordinal) && !page.Url.Contains("/app", StringComparison.Ordinal);

    private static string Describe(AxeResultItem violation) =>
        $"{violation.Id} ({violation.Impact}): {violation.Help} at {string.Join(", ", violation.Nodes.Select(n => n.Target?.ToString()))}";
}
