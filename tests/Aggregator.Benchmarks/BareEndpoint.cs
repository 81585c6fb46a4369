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

    /// <summary>
    /// Starts one serving, at each path of <paramref name="bodies"/> (path and query, as requested), the bytes the Api
    /// answered there, and <paramref name="fallback"/> at any other, as <paramref name="contentType"/>; waits until it
    /// answers. Each path keeps its own bytes, so that the ceiling holds as many distinct answers in memory as the Api's
    /// cache does (a hundred and sixty 33 KB pages served in turn cost the Api twice what one page does).
    /// </summary>
    public static async Task<BareEndpoint> StartAsync(IReadOnlyDictionary<string, byte[]> bodies, byte[] fallback, string contentType)
    {
        ArgumentNullException.ThrowIfNull(bodies);
        var file = Path.Combine(Path.GetTempPath(), $"aggregator-bench-body-{Guid.NewGuid():N}");
        await using (var writer = new BinaryWriter(File.Create(file)))
        {
            writer.Write(bodies.Count + 1);
            foreach (var (path, body) in bodies.Prepend(new KeyValuePair<string, byte[]>("", fallback)))
            {
                writer.Write(path);
                writer.Write(body.Length);
                writer.Write(body);
            }
        }

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

        File.Delete(file);
        await endpoint.DisposeAsync();
        throw new InvalidOperationException("The bare endpoint did not start.");
    }

    /// <summary>The child process: serves the file's bytes, by path, until killed.</summary>
    public static async Task<int> ServeAsync(string[] args)
    {
        var port = Arguments.Int(args, "--port", 0);
        var bodies = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using (var reader = new BinaryReader(File.OpenRead(Arguments.Text(args, "--body") ?? throw new ArgumentException("--body FILE is required"))))
        {
            for (var count = reader.ReadInt32(); count > 0; count--)
            {
                var path = reader.ReadString();
                bodies[path] = reader.ReadBytes(reader.ReadInt32());
            }
        }

        var fallback = bodies[""];
        var contentType = Arguments.Text(args, "--content-type") ?? "application/json";
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], EnvironmentName = Environments.Production, ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.MapGet("/{**path}", (HttpContext http) =>
        {
            http.Response.Headers.ETag = "W/\"1-bare\"";
            return Results.Bytes(bodies.GetValueOrDefault(http.Request.Path.Value + http.Request.QueryString.Value, fallback), contentType);
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
