using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aggregator.Benchmarks;

/// <summary>
/// The ceiling of a read: an ASP.NET Core process of the Api's shape (Kestrel, Production, server GC, quiet logs)
/// that answers every GET with the same bytes the Api answered, and does nothing else: no authentication, no
/// auditing, no cache lookup, no database. Run as a child process of the benchmark
/// (<c>Aggregator.Benchmarks bare --body FILE --content-type TYPE</c>, through <see cref="ChildProcess"/>), so that it
/// competes for the cores as the Api does.
/// </summary>
internal sealed class BareEndpoint : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private BareEndpoint(ChildProcess process) => _process = process;

    public Uri BaseUri => _process.Url;

    /// <summary>Its process, to read the CPU time it used.</summary>
    public int ProcessId => _process.Id;

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

        try
        {
            // The Api runs with the server GC (the Web SDK's default); this program is a console one.
            var process = ChildProcess.Start("bare endpoint", typeof(BareEndpoint).Assembly.Location, new Dictionary<string, string> { ["DOTNET_gcServer"] = "1" },
                arguments: ["bare", "--body", file, "--content-type", contentType]);
            var endpoint = new BareEndpoint(process);
            try
            {
                await process.WaitReadyAsync(); // it answers every path, /health/ready among them
                return endpoint;
            }
            catch
            {
                await endpoint.DisposeAsync();
                throw;
            }
        }
        finally
        {
            // Read at start-up: the process holds the bytes in memory from then on.
            File.Delete(file);
        }
    }

    /// <summary>The child process: serves the file's bytes, by path, until stopped.</summary>
    public static async Task<int> ServeAsync(string[] args)
    {
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
        // --urls and --contentRoot come from ChildProcess, as every host of ours is given them.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args[1..], EnvironmentName = Environments.Production });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        app.MapGet("/{**path}", (HttpContext http) =>
        {
            http.Response.Headers.ETag = "W/\"1-bare\"";
            return Results.Bytes(bodies.GetValueOrDefault(http.Request.Path.Value + http.Request.QueryString.Value, fallback), contentType);
        });
        await app.RunAsync();
        return 0;
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
