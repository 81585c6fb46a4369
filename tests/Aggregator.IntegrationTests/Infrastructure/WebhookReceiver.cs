using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Aggregator.IntegrationTests.Infrastructure;

/// <summary>One request a partner's webhook endpoint received: the raw body, the headers, and what it answered.</summary>
public sealed record ReceivedWebhook(string Body, HeaderDictionary Headers, int Answered);

/// <summary>A partner's webhook endpoint on real HTTP (127.0.0.1): records what arrives, and can answer 500 to the first requests.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;

    private WebhookReceiver(WebApplication app) => _app = app;

    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    /// <summary>How many of the first requests get a 500.</summary>
    public int FailFirst { get; set; }

    public Uri Url { get; private set; } = null!;

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/hooks", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body);
            var body = await reader.ReadToEndAsync();
            var status = Interlocked.Increment(ref receiver._requests) <= receiver.FailFirst ? StatusCodes.Status500InternalServerError : StatusCodes.Status204NoContent;
            var headers = new HeaderDictionary();
            foreach (var (name, value) in http.Request.Headers)
            {
                headers[name] = value;
            }

            receiver.Received.Enqueue(new ReceivedWebhook(body, headers, status));
            return Results.StatusCode(status);
        });
        await app.StartAsync();
        var address = app.Urls.First();
        receiver.Url = new Uri(address.TrimEnd('/') + "/hooks");
        return receiver;
    }

    /// <summary>Waits until a request matches; fails the test after <paramref name="limit"/>.</summary>
    public async Task<List<ReceivedWebhook>> WaitForAsync(Func<IReadOnlyList<ReceivedWebhook>, bool> done, TimeSpan? limit = null)
    {
        using var timeout = new CancellationTokenSource(limit ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var received = Received.ToList();
            if (done(received))
            {
                return received;
            }

            Assert.False(timeout.IsCancellationRequested, $"The webhook endpoint got {received.Count} requests, not what was expected: {string.Join(" | ", received.Select(r => r.Body))}");
            await Task.Delay(100, CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
