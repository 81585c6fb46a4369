using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Aggregator.Infrastructure.Observability;

/// <summary>
/// Our own instruments, on the <see cref="MeterName"/> meter. Prometheus names them from the instrument's name and unit
/// (dots become underscores, counters end in <c>_total</c>, seconds in <c>_seconds</c>): the README lists the result.
/// Labels are bounded by design: provider slugs, outcomes and statuses, never an id.
/// </summary>
public sealed class AggregatorMetrics
{
    public const string MeterName = "Aggregator";

    private readonly Counter<long> _syncs;
    private readonly Histogram<double> _syncDuration;
    private readonly Counter<long> _providerRequests;
    private readonly Histogram<double> _providerRequestDuration;
    private readonly Counter<long> _resourcesWritten;
    private readonly Counter<long> _tokenRefreshes;
    private readonly Counter<long> _webhookDeliveries;
    private readonly Histogram<double> _rebuildDuration;
    private readonly Counter<long> _cacheRequests;

    public AggregatorMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        Meter = meters.Create(MeterName);
        _syncs = Meter.CreateCounter<long>("aggregator.syncs", description: "Sync runs finished, by provider and outcome.");
        _syncDuration = Meter.CreateHistogram<double>("aggregator.sync.duration", "s", "How long a sync run took, from its start to its end.",
            advice: new() { HistogramBucketBoundaries = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900] });
        _providerRequests = Meter.CreateCounter<long>("aggregator.provider.requests", description: "Requests to providers' FHIR servers, by provider and HTTP status (0: no answer).");
        _providerRequestDuration = Meter.CreateHistogram<double>("aggregator.provider.request.duration", "s", "How long a provider took to answer one FHIR request (headers).",
            advice: new() { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        _resourcesWritten = Meter.CreateCounter<long>("aggregator.resources.written", description: "Provider resources stored new or changed, by provider.");
        _tokenRefreshes = Meter.CreateCounter<long>("aggregator.token.refreshes", description: "Access-token refreshes at providers, by outcome.");
        _webhookDeliveries = Meter.CreateCounter<long>("aggregator.webhook.deliveries", description: "Webhook delivery attempts, by outcome.");
        _rebuildDuration = Meter.CreateHistogram<double>("aggregator.record.rebuild.duration", "s", "How long one patient's merged record took to rebuild.",
            advice: new() { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _cacheRequests = Meter.CreateCounter<long>("aggregator.cache.requests", description: "Reads of cached record pages, by result (hit or miss).");
    }

    /// <summary>The meter, for the gauges another class observes.</summary>
    public Meter Meter { get; }

    public void SyncFinished(string provider, string outcome, TimeSpan duration)
    {
        var tags = new TagList { { "provider", provider }, { "outcome", outcome } };
        _syncs.Add(1, tags);
        _syncDuration.Record(duration.TotalSeconds, tags);
    }

    public void ProviderRequest(string provider, int status, TimeSpan duration)
    {
        _providerRequests.Add(1, new TagList { { "provider", provider }, { "status", status } });
        _providerRequestDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("provider", provider));
    }

    public void ResourcesWritten(string provider, int count)
    {
        if (count > 0)
        {
            _resourcesWritten.Add(count, new KeyValuePair<string, object?>("provider", provider));
        }
    }

    /// <summary><paramref name="outcome"/>: <c>refreshed</c>, <c>already_refreshed</c> (another process did it), <c>reauth_required</c> or <c>failed</c>.</summary>
    public void TokenRefresh(string outcome) => _tokenRefreshes.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary><paramref name="outcome"/>: <c>delivered</c>, <c>retrying</c> or <c>failed</c> (given up).</summary>
    public void WebhookDelivery(string outcome) => _webhookDeliveries.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void RecordRebuilt(TimeSpan duration) => _rebuildDuration.Record(duration.TotalSeconds);

    public void CacheRequest(bool hit) => _cacheRequests.Add(1, new KeyValuePair<string, object?>("result", hit ? "hit" : "miss"));
}
