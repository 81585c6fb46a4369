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
/// configured delays, then the delivery is <c>failed</c>. The row is locked while it is sent, so
/// two workers never send one delivery at once; the <c>webhook-id</c> stays the same across retries.
/// </summary>
public sealed partial class WebhookSender(
    AggregatorDbContext db,
    IHttpClientFactory httpClients,
    SecretProtector secrets,
    IBackgroundJobClient jobs,
    TimeProvider clock,
    IOptions<WebhookOptions> options,
    ILogger<WebhookSender> logger)
{
    public const string HttpClientName = "webhooks";

    [AutomaticRetry(Attempts = 0)]
    public async Task SendAsync(Guid deliveryId, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var delivery = await db.WebhookDeliveries
            .FromSqlInterpolated($"SELECT * FROM webhook_deliveries WHERE id = {deliveryId} FOR UPDATE SKIP LOCKED")
            .IgnoreQueryFilters()
            .SingleOrDefaultAsync(cancellationToken);
        // Gone, settled, being sent by another worker, or waiting for a later attempt (a sweep may queue it early).
        if (delivery is null || delivery.Status != WebhookDeliveryStatus.Pending || delivery.NextAttemptAt > clock.GetUtcNow() + TimeSpan.FromSeconds(1))
        {
            return;
        }

        var tenant = await db.Tenants.IgnoreQueryFilters().AsNoTracking().SingleAsync(t => t.Id == delivery.TenantId, cancellationToken);
        var now = clock.GetUtcNow();
        delivery.Attempts++;
        if (tenant.WebhookUrl is null || tenant.WebhookSecretProtected is null)
        {
            delivery.Status = WebhookDeliveryStatus.Failed;
            delivery.LastError = "The tenant has no webhook url any more.";
        }
        else if (await PostAsync(delivery, new Uri(tenant.WebhookUrl), secrets.Unprotect(SecretKind.WebhookSecret, tenant.WebhookSecretProtected), now, cancellationToken) is { } error)
        {
            delivery.LastError = error;
            var delays = options.Value.EffectiveRetryDelays;
            if (delivery.Attempts <= delays.Count)
            {
                var delay = delays[delivery.Attempts - 1];
                delivery.NextAttemptAt = now + delay;
                jobs.Schedule<WebhookSender>(JobQueues.Default, sender => sender.SendAsync(delivery.Id, CancellationToken.None), delay);
            }
            else
            {
                delivery.Status = WebhookDeliveryStatus.Failed;
                delivery.NextAttemptAt = null;
            }

            LogNotDelivered(logger, delivery.Id, delivery.EventType, delivery.Attempts, error);
        }
        else
        {
            delivery.Status = WebhookDeliveryStatus.Delivered;
            delivery.DeliveredAt = now;
            delivery.NextAttemptAt = null;
            delivery.LastError = null;
            LogDelivered(logger, delivery.Id, delivery.EventType, delivery.Attempts);
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
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
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, timeout.Token);
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
