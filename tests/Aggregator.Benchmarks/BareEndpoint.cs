using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aggregator.Benchmarks;

/// <summary>
/// The ceiling of a read: an ASP.NET Core process of the Api's shape (Kestrel, Production, server GC, quiet logs)
/// that answers every GET with the same bytes the Api answered, and does nothing else: no authentication, no
/// auditing, no cache lookup, no database. Run as a child process of the benchmark
/// (<c>Aggregator.Benchmarks bare --port P --body FILE</c>), so that it competes for the cores as the Api does.
/// </summary>
internal sealed class BareEndpoint : IAsyncDisposable
{
    private readonly Process _process;

    private BareEndpoint(Process process, Uri baseUri)
    {
        _process = process;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }

    /// <summary>Starts one serving <paramref name="body"/> as <paramref name="contentType"/>, and waits until it answers.</summary>
    public static async Task<BareEndpoint> StartAsync(byte[] body, string contentType)
    {
        var file = Path.Combine(Path.GetTempPath(), $"aggregator-bench-body-{Guid.NewGuid():N}");
        await File.WriteAllBytesAsync(file, body);
        var port = BenchDatabase.FreePort();
        var start = new ProcessStartInfo("dotnet", [typeof(BareEndpoint).Assembly.Location, "bare", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--body", file, "--content-type", contentType])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // The Api runs with the server GC (the Web SDK's default); this program is a console one.
        start.Environment["DOTNET_gcServer"] = "1";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var endpoint = new BareEndpoint(process, new Uri($"http://127.0.0.1:{port}/"));
        using var client = new HttpClient { BaseAddress = endpoint.BaseUri };
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var response = await client.GetAsync(new Uri("ready", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    File.Delete(file);
                    return endpoint;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        await endpoint.DisposeAsync();
        throw new InvalidOperationException("The bare endpoint did not start.");
    }

    /// <summary>The child process: serves the file's bytes at every path until killed.</summary>
    public static async Task<int> ServeAsync(string[] args)
    {
        var port = Arguments.Int(args, "--port", 0);
        var body = await File.ReadAllBytesAsync(Arguments.Text(args, "--body") ?? throw new ArgumentException("--body FILE is required"));
        var contentType = Arguments.Text(args, "--content-type") ?? "application/json";
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], EnvironmentName = Environments.Production, ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.MapGet("/{**path}", (HttpContext http) =>
        {
            http.Response.Headers.ETag = "W/\"1-bare\"";
            return Results.Bytes(body, contentType);
        });
        await app.RunAsync();
        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
