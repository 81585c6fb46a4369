using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Aggregator.Domain.Providers;
using Aggregator.Infrastructure.Connections;
using Microsoft.Extensions.Options;

namespace Aggregator.Infrastructure.Sync;

/// <summary>A FHIR server's answer to one GET, read whole.</summary>
public sealed record FhirAnswer(HttpStatusCode Status, byte[] Body, DateTimeOffset? ServerDate, string? ContentType = null)
{
    /// <summary>Set when we gave up on the answer ourselves (too long, too slow); the answer then counts as failed.</summary>
    public string? Refusal { get; init; }

    public bool IsSuccess => Refusal is null && (int)Status is >= 200 and < 300;

    /// <summary>An answer we stopped reading, with why.</summary>
    public static FhirAnswer Refused(string reason) => new(0, [], null) { Refusal = reason };

    /// <summary>The server's own words when it refused (OperationOutcome diagnostics or text), shortened; never the body otherwise.</summary>
    public string Describe()
    {
        if (Refusal is not null)
        {
            return Refusal;
        }

        var words = "";
        try
        {
            using var document = JsonDocument.Parse(Body);
            if (document.RootElement.TryGetProperty("issue", out var issues) && issues.ValueKind == JsonValueKind.Array)
            {
                words = string.Join("; ", issues.EnumerateArray().Select(i =>
                    i.TryGetProperty("diagnostics", out var d) ? d.GetString()
                    : i.TryGetProperty("details", out var details) && details.TryGetProperty("text", out var text) ? text.GetString()
                    : i.TryGetProperty("code", out var code) ? code.GetString() : null).Where(w => !string.IsNullOrEmpty(w)));
            }
        }
        catch (JsonException)
        {
            // Not JSON: the status says enough.
        }

        var description = $"HTTP {(int)Status}" + (words.Length > 0 ? ": " + words : "");
        return description.Length > 300 ? description[..300] : description;
    }
}

/// <summary>
/// GETs from a connection's FHIR server with its bearer token. A 401 gets one refresh and a retry
/// of the same request; 429 and 5xx are retried, honouring Retry-After (seconds or a date) up to a
/// cap, else with doubling backoff. Waiting goes through the injected <see cref="TimeProvider"/>.
/// </summary>
public sealed class ProviderFhirClient(
    IHttpClientFactory http, ConnectionTokens tokens, IOptions<SyncOptions> options, Observability.AggregatorMetrics metrics, TimeProvider clock)
{
    public const string HttpClientName = "provider-fhir";
    private static readonly HashSet<HttpStatusCode> Retryable =
    [
        HttpStatusCode.TooManyRequests, HttpStatusCode.InternalServerError, HttpStatusCode.BadGateway,
        HttpStatusCode.ServiceUnavailable, HttpStatusCode.GatewayTimeout,
    ];

    public async Task<FhirAnswer> GetAsync(Guid connectionId, Uri url, Provider provider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(provider);
        var settings = options.Value;
        var backoff = settings.FirstBackoff;
        var accessToken = await tokens.GetAccessTokenAsync(connectionId, cancellationToken);
        var refreshed = false;
        for (var attempt = 1; ; attempt++)
        {
            // One deadline for the request and its whole body: a provider that answers slowly or forever cannot hold a worker.
            using var deadline = new CancellationTokenSource(settings.RequestTimeout, clock);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
            HttpResponseMessage response;
            try
            {
                response = await SendAsync(url, accessToken, provider, linked.Token);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                return FhirAnswer.Refused(TooSlow(settings));
            }
            catch (Exception ex) when ((ex is HttpRequestException || ex is TaskCanceledException) && !cancellationToken.IsCancellationRequested && attempt < settings.MaxAttempts)
            {
                await Task.Delay(backoff, clock, cancellationToken);
                backoff *= 2;
                continue;
            }

            using (response)
            {
                if (response.StatusCode == HttpStatusCode.Unauthorized && !refreshed)
                {
                    // One refresh and the same request again; a second 401 is the server's answer.
                    refreshed = true;
                    accessToken = (await tokens.RefreshAsync(connectionId, accessToken, cancellationToken)).AccessToken;
                    attempt--;
                    continue;
                }

                if (Retryable.Contains(response.StatusCode) && attempt < settings.MaxAttempts)
                {
                    var wait = RetryAfter(response) ?? backoff;
                    backoff *= 2;
                    await Task.Delay(wait > settings.MaxRetryAfter ? settings.MaxRetryAfter : wait, clock, cancellationToken);
                    continue;
                }

                byte[]? body;
                try
                {
                    using var reading = Observability.SyncTracing.Source.StartActivity(Observability.SyncTracing.ReadBody);
                    body = await ReadCappedAsync(response.Content, settings.MaxResponseBytes, linked.Token);
                }
                catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    return FhirAnswer.Refused(TooSlow(settings));
                }
                catch (IOException ex)
                {
                    // The provider hung up in the middle of its answer.
                    return FhirAnswer.Refused("The provider's answer broke off before its end (" + ex.GetType().Name + ").");
                }

                return body is null
                    ? FhirAnswer.Refused($"The provider's answer was longer than Sync:MaxResponseBytes ({settings.MaxResponseBytes} bytes); it was not read.")
                    : new FhirAnswer(response.StatusCode, body, response.Headers.Date, response.Content.Headers.ContentType?.MediaType);
            }
        }
    }

    private static string TooSlow(SyncOptions settings) =>
        $"The provider did not finish its answer within Sync:RequestTimeout ({settings.RequestTimeout}); it was abandoned.";

    /// <summary>The body, or null once it is longer than <paramref name="cap"/> (declared or as read: nothing past the cap is kept).</summary>
    private static async Task<byte[]?> ReadCappedAsync(HttpContent content, long cap, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > cap)
        {
            return null;
        }

        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var body = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            if (body.Length + read > cap)
            {
                return null;
            }

            body.Write(buffer, 0, read);
        }

        return body.ToArray();
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - clock.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    /// <summary>One attempt, counted per provider with its status (0 when no answer came).</summary>
    private async Task<HttpResponseMessage> SendAsync(Uri url, string accessToken, Provider provider, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(provider.FhirVersion == FhirVersion.Dstu2 ? "application/json+fhir" : "application/fhir+json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json", 0.9));
        var started = clock.GetTimestamp();
        var status = 0;
        try
        {
            var response = await http.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            status = (int)response.StatusCode;
            return response;
        }
        finally
        {
            metrics.ProviderRequest(provider.Slug, status, clock.GetElapsedTime(started));
        }
    }
}
