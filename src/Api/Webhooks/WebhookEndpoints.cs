using Aggregator.Api.Authentication;
using Aggregator.Domain.Webhooks;
using Aggregator.Infrastructure.Hosting;
using Aggregator.Infrastructure.Jobs;
using Aggregator.Infrastructure.Paging;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Webhooks;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Api.Webhooks;

/// <summary>The tenant's outgoing webhook events: what was sent, what failed and why, and a way to send a failed one again.</summary>
public static class WebhookEndpoints
{
    public static IEndpointRouteBuilder MapWebhookEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var group = endpoints.MapGroup("/v1/webhook-deliveries")
            .WithTags("Webhooks")
            .RequireAuthorization(AuthenticationSetup.TenantPolicy);
        group.MapGet("/", List)
            .WithName("listWebhookDeliveries")
            .WithSummary("The tenant's webhook deliveries, newest first (cursor paging)")
            .WithDescription("Events: `sync.finished` (a sync run ended; `status`, `recordVersion`) and `connection.reauth_required` (the patient must reconnect). Each is POSTed to the tenant's webhook url as JSON `{ type, timestamp, data }`, signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`). Non-2xx answers are retried (30 s, 2 min, 10 min, 1 h, 6 h, 24 h), then the delivery is `failed`. `status` filters.");
        group.MapPost("/{deliveryId:guid}/retry", Retry)
            .WithName("retryWebhookDelivery")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Send a failed delivery again (same webhook-id)");
        return endpoints;
    }

    private static async Task<Results<Ok<DeliveryPage>, ProblemHttpResult>> List(
        AggregatorDbContext db, CursorCodec cursors, int? limit, string? cursor, string? status, CancellationToken cancellationToken)
    {
        if (status is not null && !Enum.TryParse<WebhookDeliveryStatus>(status, ignoreCase: true, out _))
        {
            return TypedResults.Problem(title: "Unknown status", detail: "status is one of pending, delivered, failed.", statusCode: StatusCodes.Status400BadRequest, type: ProblemTypes.Validation);
        }

        var take = CursorCodec.ClampLimit(limit);
        var listing = "webhooks:" + status;
        var deliveries = db.WebhookDeliveries.AsNoTracking();
        if (status is not null && Enum.TryParse<WebhookDeliveryStatus>(status, ignoreCase: true, out var wanted))
        {
            deliveries = deliveries.Where(d => d.Status == wanted);
        }

        if (!string.IsNullOrEmpty(cursor))
        {
            var before = cursors.Decode<Guid>(listing, cursor);
            deliveries = deliveries.Where(d => d.Id.CompareTo(before) < 0);
        }

        var page = await deliveries.OrderByDescending(d => d.Id).Take(take + 1)
            .Select(d => new DeliveryResponse(d.Id, d.EventType, d.Status, d.Attempts, d.CreatedAt, d.NextAttemptAt, d.DeliveredAt, d.LastError))
            .ToListAsync(cancellationToken);
        var next = page.Count > take ? cursors.Encode(listing, page[take - 1].Id) : null;
        return TypedResults.Ok(new DeliveryPage([.. page.Take(take)], next));
    }

    private static async Task<Results<Accepted<DeliveryResponse>, ProblemHttpResult>> Retry(
        Guid deliveryId, AggregatorDbContext db, IBackgroundJobClient jobs, TimeProvider clock, CancellationToken cancellationToken)
    {
        var delivery = await db.WebhookDeliveries.SingleOrDefaultAsync(d => d.Id == deliveryId, cancellationToken);
        if (delivery is null)
        {
            return TypedResults.Problem(title: "Webhook delivery not found", statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound);
        }

        if (delivery.Status != WebhookDeliveryStatus.Failed)
        {
            return TypedResults.Problem(
                title: "Only a failed delivery can be sent again",
                detail: $"This delivery is {delivery.Status.ToString().ToLowerInvariant()}.",
                statusCode: StatusCodes.Status409Conflict,
                type: ProblemTypes.Conflict);
        }

        // A fresh round of attempts (the retry schedule starts over); the webhook-id stays the same.
        delivery.Status = WebhookDeliveryStatus.Pending;
        delivery.Attempts = 0;
        delivery.NextAttemptAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        jobs.Enqueue<WebhookSender>(JobQueues.Default, sender => sender.SendAsync(delivery.Id, CancellationToken.None));
        return TypedResults.Accepted($"/v1/webhook-deliveries?status=pending", new DeliveryResponse(
            delivery.Id, delivery.EventType, delivery.Status, delivery.Attempts, delivery.CreatedAt, delivery.NextAttemptAt, delivery.DeliveredAt, delivery.LastError));
    }
}

public sealed record DeliveryResponse(
    Guid Id, string EventType, WebhookDeliveryStatus Status, int Attempts, DateTimeOffset CreatedAt, DateTimeOffset? NextAttemptAt, DateTimeOffset? DeliveredAt, string? LastError);

public sealed record DeliveryPage(IReadOnlyList<DeliveryResponse> Items, string? NextCursor);
