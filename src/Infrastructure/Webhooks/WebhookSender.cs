using Aggregator.Infrastructure.Tenants;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Aggregator.Domain.Webhooks;
using Aggregator.Infrastructure.Jobs;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Secrets;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StandardWebhooks;

namespace Aggregator.Infrastructure.Webhooks;

/// <summary>
/// Delivers one stored event to the tenant's webhook url, signed per Standard Webhooks
/// (<c>webhook-id</c>, <c>webhook-timestamp</c>, <c>webhook-signature</c>, HMAC-SHA256 with the
/// tenant's <c>whsec_</c> secret). A 2xx answer delivers it; anything else is retried after the
/// configured delays (redirects are not followed), then the delivery is <c>failed</c>. An attempt is
/// claimed before it is sent, so two workers never send one delivery at once; the <c>webhook-id</c>
/// stays the same across retries.
/// </summary>
public sealed partial class WebhookSender(
    AggregatorDbContext db,
    CurrentTenant currentTenant,
    IHttpClientFactory httpClients,
    SecretProtector secrets,
    IBackgroundJobClient jobs,
    TimeProvider clock,
    IOptions<WebhookOptions> options,
    Observability.AggregatorMetrics metrics,
    ILogger<WebhookSender> logger)
{
    public const string HttpClientName = "webhooks";

    [AutomaticRetry(Attempts = 0)]
    public async Task SendAsync(Guid deliveryId, CancellationToken cancellationToken)
    {
        if (await ClaimAsync(deliveryId, cancellationToken) is not { } delivery)
        {
            return;
        }

        // Sent outside any transaction: no connection waits on the tenant's endpoint. Whatever goes wrong is an attempt.
        var now = clock.GetUtcNow();
        string? error;
        try
        {
            var tenant = await db.Tenants.IgnoreQueryFilters().AsNoTracking().SingleAsync(t => t.Id == delivery.TenantId, cancellationToken);
            error = tenant.WebhookUrl is null || tenant.WebhookSecretProtected is null
                ? "The tenant has no webhook url."
                : await PostAsync(delivery, new Uri(tenant.WebhookUrl), secrets.Unprotect(SecretKind.WebhookSecret, tenant.WebhookSecretProtected), now, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            error = "The event could not be sent (" + ex.GetType().Name + ").";
        }

        if (error is null)
        {
            delivery.Status = WebhookDeliveryStatus.Delivered;
            delivery.DeliveredAt = now;
            delivery.NextAttemptAt = null;
            delivery.LastError = null;
            await db.SaveChangesAsync(CancellationToken.None);
            LogDelivered(logger, delivery.Id, delivery.EventType, delivery.Attempts);
            metrics.WebhookDelivery("delivered");
            return;
        }

        delivery.LastError = error;
        var delays = options.Value.EffectiveRetryDelays;
        TimeSpan? retryIn = delivery.Attempts <= delays.Count ? delays[delivery.Attempts - 1] : null;
        delivery.Status = retryIn is null ? WebhookDeliveryStatus.Failed : WebhookDeliveryStatus.Pending;
        delivery.NextAttemptAt = now + retryIn;
        await db.SaveChangesAsync(CancellationToken.None);
        if (retryIn is { } delay)
        {
            jobs.Schedule<WebhookSender>(JobQueues.Default, sender => sender.SendAsync(delivery.Id, CancellationToken.None), delay);
        }

        LogNotDelivered(logger, delivery.Id, delivery.EventType, delivery.Attempts, error);
        metrics.WebhookDelivery(retryIn is null ? "failed" : "retrying");
    }

    /// <summary>
    /// Takes a due, pending delivery for one attempt: counts the attempt and moves its next attempt past the send's
    /// time limit (a worker that dies mid-send leaves it to the sweep), in a short transaction that skips a row another
    /// worker holds. Null when there is nothing to send now.
    /// </summary>
    private async Task<WebhookDelivery?> ClaimAsync(Guid deliveryId, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        WebhookDelivery? delivery;
        // The job names a delivery, not a tenant: found as system work, then handled as its tenant's.
        using (currentTenant.ActAsSystem())
        {
            delivery = await db.WebhookDeliveries
                .FromSqlInterpolated($"SELECT * FROM webhook_deliveries WHERE id = {deliveryId} FOR UPDATE SKIP LOCKED")
                .IgnoreQueryFilters()
                .SingleOrDefaultAsync(cancellationToken);
        }

        if (delivery is not null)
        {
            currentTenant.Set(delivery.TenantId);
        }

        var now = clock.GetUtcNow();
        // Gone, settled, held by another worker, or waiting for a later attempt (a sweep may queue it early).
        if (delivery is null || delivery.Status != WebhookDeliveryStatus.Pending || delivery.NextAttemptAt > now + TimeSpan.FromSeconds(1))
        {
            return null;
        }

        delivery.Attempts++;
        delivery.NextAttemptAt = now + options.Value.Timeout + TimeSpan.FromMinutes(1);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return delivery;
    }

    /// <summary>Returns null when the tenant's endpoint accepted the event, else why not (no response content: it is not ours to log).</summary>
    private async Task<string?> PostAsync(WebhookDelivery delivery, Uri url, string secret, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var messageId = delivery.Id.ToString();
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(delivery.Payload, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        request.Headers.Add("webhook-id", messageId);
        request.Headers.Add("webhook-timestamp", now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", new StandardWebhook(secret).Sign(messageId, now, delivery.Payload));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.Timeout);
        try
        {
            // Only the status matters: the body is neither read nor kept.
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            return response.IsSuccessStatusCode ? null : $"The endpoint answered {(int)response.StatusCode}.";
        }
        catch (HttpRequestException ex)
        {
            return $"The endpoint could not be reached ({ex.HttpRequestError}).";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"The endpoint did not answer within {options.Value.Timeout.TotalSeconds:0} s.";
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook {DeliveryId} ({EventType}) delivered on attempt {Attempts}")]
    private static partial void LogDelivered(ILogger logger, Guid deliveryId, string eventType, int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {DeliveryId} ({EventType}) not delivered on attempt {Attempts}: {Error}")]
    private static partial void LogNotDelivered(ILogger logger, Guid deliveryId, string eventType, int attempts, string error);
}
