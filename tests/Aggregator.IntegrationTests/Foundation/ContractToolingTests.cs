using System.Diagnostics;
using Aggregator.IntegrationTests.Infrastructure;

namespace Aggregator.IntegrationTests.Foundation;

/// <summary>
/// What a partner does with the committed contract (openapi/): lint it with Redocly's recommended rules, generate a
/// TypeScript client and compile it, generate the C# client our web app uses. Tools are pinned in the repository
/// (openapi/package-lock.json, .config/dotnet-tools.json) and installed on first use.
/// </summary>
public sealed class ContractToolingTests
{
    private static readonly string Folder = Path.Combine(RepositoryPaths.Root, "openapi");
    private static readonly SemaphoreSlim Install = new(1, 1);

    [Fact]
    public async Task Redocly_recommended_rules_find_no_error_in_the_contract()
    {
        await NpmToolsAsync();

        var (exit, output) = await RunAsync("npx", "--no-install redocly lint aggregator-v1.json --format=summary", Folder);

        Assert.True(exit == 0, output);
        Assert.DoesNotContain("error ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_generated_typescript_client_compiles_and_types_every_documented_answer()
    {
        await NpmToolsAsync();
        var generated = Path.Combine(Folder, "generated", "aggregator.d.ts");

        var (exit, output) = await RunAsync("npx", "--no-install openapi-typescript aggregator-v1.json -o generated/aggregator.d.ts", Folder);
        Assert.True(exit == 0, output);
        (exit, output) = await RunAsync("npx", "--no-install tsc -p tsconfig.json", Folder);
        Assert.True(exit == 0, output);

        var types = await File.ReadAllTextAsync(generated, TestContext.Current.CancellationToken);
        // A documented answer (a JSON body) typed unknown would mean a missing schema.
        Assert.DoesNotMatch(@"""application/[a-z+.-]*json"": unknown", types);
        Assert.DoesNotContain("@enum {unknown}", types, StringComparison.Ordinal);
        // Nor typed as an object that may hold anything, or nothing.
        Assert.DoesNotMatch(@"""application/[a-z+.-]*json"": (Record<string, (never|unknown)>|\{\s*\[key: string\]: unknown;?\s*\}|object);", types);
        Assert.Contains("RecordItem: components[\"schemas\"][\"LabItem\"] |", types, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_web_apps_csharp_client_is_the_one_the_contract_generates()
    {
        var committed = Path.Combine(RepositoryPaths.Root, "src", "Web", "ApiClient", "Generated");
        var fresh = Path.Combine(Path.GetTempPath(), "aggregator-kiota-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (exit, output) = await RunAsync("dotnet", "tool restore", RepositoryPaths.Root);
            Assert.True(exit == 0, output);
            (exit, output) = await RunAsync("dotnet",
                $"kiota generate -l CSharp -d openapi/aggregator-v1.json -o \"{fresh}\" -n Aggregator.Web.ApiClient.Generated -c AggregatorClient --exclude-backward-compatible --clean-output --log-level Error",
                RepositoryPaths.Root);
            Assert.True(exit == 0, output);

            // Kiota's lock file names the description by a path relative to where it generated: not part of the client.
            File.Delete(Path.Combine(fresh, "kiota-lock.json"));
            var stale = Differences(fresh, committed);
            if (stale.Count > 0 && Environment.GetEnvironmentVariable("CI") != "true")
            {
                Directory.Delete(committed, recursive: true);
                CopyTree(fresh, committed);
            }

            Assert.True(stale.Count == 0, $"src/Web/ApiClient/Generated is not what the contract generates ({string.Join(", ", stale.Take(5))}); regenerated now outside CI: review, build and commit it.");
            var code = string.Join('\n', Directory.GetFiles(committed, "*.cs", SearchOption.AllDirectories).Select(File.ReadAllText));
            // Every documented answer has a type: nothing falls back to an untyped node.
            Assert.DoesNotContain("UntypedNode", code, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(fresh))
            {
                Directory.Delete(fresh, recursive: true);
            }
        }
    }

    /// <summary>Files that differ (or exist on one side only), as relative paths.</summary>
    private static List<string> Differences(string left, string right)
    {
        static Dictionary<string, string> Read(string root) => Directory.Exists(root)
            ? Directory.GetFiles(root, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(root, f), f => File.ReadAllText(f).ReplaceLineEndings("\n"))
            : [];
        var a = Read(left);
        var b = Read(right);
        return [.. a.Keys.Union(b.Keys).Where(k => !a.TryGetValue(k, out var x) || !b.TryGetValue(k, out var y) || x != y).Order(StringComparer.Ordinal)];
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }

    /// <summary>The pinned npm tools in openapi/node_modules, installed once (npm ci) when missing.</summary>
    private static async Task NpmToolsAsync()
    {
        await Install.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            if (!File.Exists(Path.Combine(Folder, "node_modules", ".bin", "redocly")))
            {
                var (exit, output) = await RunAsync("npm", "ci --no-audit --no-fund", Folder);
                Assert.True(exit == 0, "npm ci failed (Node.js and npm are needed for the contract checks): " + output);
            }
        }
        finally
        {
            Install.Release();
        }
    }

    private static async Task<(int Exit, string Output)> RunAsync(string file, string arguments, string folder)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["KIOTA_TUTORIAL_ENABLED"] = "false";
        start.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
