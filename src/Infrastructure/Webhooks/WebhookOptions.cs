namespace Aggregator.Infrastructure.Webhooks;

/// <summary><c>Webhooks:*</c>: how events reach a tenant's webhook url.</summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    private static readonly TimeSpan[] DefaultRetryDelays =
        [TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10), TimeSpan.FromHours(1), TimeSpan.FromHours(6), TimeSpan.FromHours(24)];

    /// <summary>
    /// Waits before each retry of a failed delivery (<c>Webhooks:RetryDelays:0</c>, <c>:1</c>, ...); after the last one the
    /// delivery is <c>failed</c>. Unset: 30 s, 2 min, 10 min, 1 h, 6 h, 24 h.
    /// </summary>
    public IReadOnlyList<TimeSpan>? RetryDelays { get; set; }

    public IReadOnlyList<TimeSpan> EffectiveRetryDelays => RetryDelays is { Count: > 0 } configured ? configured : DefaultRetryDelays;

    /// <summary>How long the tenant's endpoint has to answer.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}
