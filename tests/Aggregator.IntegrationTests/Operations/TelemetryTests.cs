using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Aggregator.IntegrationTests.Browser;
using Aggregator.IntegrationTests.Infrastructure;
using OpenTelemetry.Trace;

namespace Aggregator.IntegrationTests.Operations;

/// <summary>
/// What an operator sees from outside: a real Prometheus scraping the Api and a Worker (a process of its own) at
/// <c>/metrics</c>, and the trace of a manual sync from the request through its job, the provider and PostgreSQL.
/// </summary>
public sealed class TelemetryTests(PostgresServer server, SandboxProvider sandbox) : IAsyncLifetime
{
    private const string OperatorPassword = "metrics-test-password";
    private readonly TestDatabase _database = new(server);
    private readonly List<Activity> _spans = [];
    private readonly List<IAsyncDisposable> _hosts = [];

    public ValueTask InitializeAsync() => _database.InitializeAsync();

    [Fact]
    public async Task Prometheus_scrapes_the_api_and_the_workers_and_sees_the_sync_counters_rise_after_a_sync()
    {
        // Every host a process of its own, as deployed: one Api and two Workers on one database, their own sandbox.
        await using var system = await ScaleOut.ScaleOutSystem.StartAsync(server, apis: 1, workers: 2, people: 1, new Dictionary<string, string?>
        {
            ["Operator__DashboardPassword"] = OperatorPassword,
            ["Telemetry__GaugeInterval"] = "00:00:01",
        });
        var api = system.Apis[0];

        // Without the operator's credentials no host shows its metrics.
        using (var anonymous = new HttpClient())
        {
            foreach (var host in system.Apis.Concat(system.Workers))
            {
                var refused = await anonymous.GetAsync(new Uri(host.Url, "metrics"), TestContext.Current.CancellationToken);
                Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
                Assert.StartsWith("Basic", refused.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
            }
        }

        await using var prometheus = await PrometheusServer.StartAsync(
            [("api", api.Url), .. system.Workers.Select(w => ("worker", w.Url))], OperatorPassword);
        await prometheus.WaitForAsync("up", samples => samples.Count == 3 && samples.All(s => s.Value == 1));
        var login = system.Logins.First(l => l.Persona == "nextgen" && l.FhirVersion == "R4");
        const string Provider = "sandbox-nextgen-r4";
        var before = await prometheus.QueryAsync($"sum(aggregator_syncs_total{{job=\"worker\",provider=\"{Provider}\"}})");

        var (patientId, connectionId) = await system.ConnectAsync("telemetry-patient", login, startVia: 0, callbackVia: 0);
        var runs = await system.WaitForRunsAsync([connectionId], runs: 1);
        Assert.Equal(Domain.Sync.SyncRunStatus.Succeeded, Assert.Single(runs).Status);
        // The same page again and again until the Api's metrics show a cache hit: the first read comes from the database,
        // later ones from the cache once the Api has heard the record's version (its listener may lag on a loaded machine).
        var tenant = system.Client(0);
        var reads = 0;
        for (var hit = false; !hit; reads++)
        {
            Assert.True(reads < 30, "The Api never reported a cache hit for a page read again and again.");
            Assert.Equal(HttpStatusCode.OK, (await tenant.GetAsync(new Uri($"/v1/patients/{patientId}/record/labs", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
            await Task.Delay(1000, TestContext.Current.CancellationToken);
            hit = (await prometheus.QueryAsync("sum(aggregator_cache_requests_total{job=\"api\",result=\"hit\"})")) is [{ Value: >= 1 }];
        }

        Assert.Empty(before);
        // One sync, counted once, by the Worker that ran it.
        var syncs = await prometheus.WaitForAsync($"sum(aggregator_syncs_total{{job=\"worker\",provider=\"{Provider}\",outcome=\"succeeded\"}})", s => s.Count == 1 && s[0].Value >= 1);
        Assert.Equal(1, syncs[0].Value);
        await prometheus.WaitForAsync($"sum(aggregator_sync_duration_seconds_count{{job=\"worker\",provider=\"{Provider}\"}})", s => s.Count == 1 && s[0].Value == 1);
        await prometheus.WaitForAsync($"sum(aggregator_provider_requests_total{{job=\"worker\",provider=\"{Provider}\",status=\"200\"}})", s => s.Count == 1 && s[0].Value > 1);
        await prometheus.WaitForAsync($"sum(aggregator_resources_written_total{{job=\"worker\",provider=\"{Provider}\"}})", s => s.Count == 1 && s[0].Value > 10);
        await prometheus.WaitForAsync("sum(aggregator_record_rebuild_duration_seconds_count)", s => s.Count == 1 && s[0].Value >= 1);
        // The Api served the tenant's calls: the standard HTTP server metrics, by route; and its page cache.
        await prometheus.WaitForAsync("sum(http_server_request_duration_seconds_count{job=\"api\",http_route=\"/v1/patients/{patientId:guid}/record/{category}\",http_response_status_code=\"200\"})", s => s.Count == 1 && s[0].Value == reads);
        await prometheus.WaitForAsync("sum(aggregator_cache_requests_total{job=\"api\",result=\"miss\"})", s => s.Count == 1 && s[0].Value >= 1);
        // The database gauges come from one process of the three: summed over all, the one active connection is one.
        await prometheus.WaitForAsync("sum(aggregator_connections{status=\"active\"})", s => s.Count == 1 && s[0].Value == 1);
        await prometheus.WaitForAsync("sum by (queue) (aggregator_queue_depth)", s => s.Select(q => q.Labels["queue"]).Order().SequenceEqual(["default", "maintenance", "sync"]));
        Assert.Single(await prometheus.QueryAsync("count by (instance) (aggregator_connections)"));
    }

    [Fact]
    public async Task A_manual_sync_leaves_one_trace_from_the_api_request_through_its_job_to_the_provider_and_postgresql()
    {
        var (api, _) = await StartApiAsync(jobServer: true);
        var (tenant, _) = await api.CreateTenantClientAsync("Coral Health", ConnectedPatients.ReturnUrl);
        var login = sandbox.Login("nextgen", "R4", 0);
        var (_, connectionId) = await api.ConnectAsync(tenant, sandbox, "sandbox-nextgen-r4", login);
        await tenant.WaitForRunAsync(connectionId);

        var requested = await tenant.PostAsync(new Uri($"/v1/connections/{connectionId}/sync", UriKind.Relative), null, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, requested.StatusCode);
        var runId = (await requested.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(TestContext.Current.CancellationToken)).GetProperty("syncRunId").GetGuid();
        Assert.Equal("succeeded", (await tenant.WaitForRunAsync(connectionId, runId)).GetProperty("status").GetString());

        Activity[] trace = [];
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTimeOffset.UtcNow < deadline)
        {
            Activity[] spans;
            lock (_spans)
            {
                spans = [.. _spans];
            }

            var request = spans.LastOrDefault(s => s.Kind == ActivityKind.Server && s.DisplayName == "POST /v1/connections/{connectionId:guid}/sync");
            trace = request is null ? [] : [.. spans.Where(s => s.TraceId == request.TraceId)];
            if (trace.Any(s => s.Source.Name == "Aggregator.Jobs" && s.DisplayName == "job SyncConnectionJob.RunAsync"))
            {
                break;
            }

            await Task.Delay(250, TestContext.Current.CancellationToken);
        }

        Assert.Contains(trace, s => s.Kind == ActivityKind.Server && s.Source.Name == "Microsoft.AspNetCore");
        var job = Assert.Single(trace, s => s.Source.Name == "Aggregator.Jobs" && s.DisplayName == "job SyncConnectionJob.RunAsync");
        // The provider's reads and our own SQL happen inside the job's span, in the same trace.
        Assert.Contains(trace, s => s.Kind == ActivityKind.Client && s.Source.Name == "System.Net.Http"
            && s.GetTagItem("url.full") is string url && url.StartsWith(sandbox.Root.AbsoluteUri, StringComparison.Ordinal) && url.Contains("/Observation", StringComparison.Ordinal));
        Assert.Contains(trace, s => s.Source.Name == "Npgsql" && s.StartTimeUtc >= job.StartTimeUtc);
        // The provider was sent no trace header: its own spans (the sandbox runs in this process) are not in our trace.
        Assert.DoesNotContain(trace, s => s.Kind == ActivityKind.Server && s.DisplayName.Contains("{persona}", StringComparison.Ordinal));
        // The provider's urls are in the trace without the patient's id at the provider or any search value.
        Assert.Contains(trace, s => s.GetTagItem("url.full") is string url && url.EndsWith("/Patient/{id}", StringComparison.Ordinal));
        Assert.All(trace.Select(s => s.GetTagItem("url.full")).OfType<string>(), url =>
        {
            Assert.DoesNotContain(login.PatientId, url, StringComparison.Ordinal);
            Assert.DoesNotContain("?", url, StringComparison.Ordinal);
        });
        // Nor do requests' query strings (an OAuth callback's code and state) show their values in any span.
        List<Activity> all;
        lock (_spans)
        {
            all = [.. _spans];
        }

        Assert.Contains(all, s => s.GetTagItem("url.path") is "/v1/oauth/callback"
            && s.GetTagItem("url.query") is string query && query.Contains("code=Redacted", StringComparison.Ordinal));
        Assert.All(all.Select(s => s.GetTagItem("url.query")).OfType<string>(), query =>
            Assert.All(query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries), pair => Assert.EndsWith("=Redacted", pair, StringComparison.Ordinal)));
        Assert.All(trace.Where(s => s.Source.Name == "System.Net.Http" && s.StartTimeUtc >= job.StartTimeUtc), s => Assert.True(IsWithin(s, job, trace), $"{s.DisplayName} is not inside the job's span"));
    }

    /// <summary>Whether <paramref name="span"/> descends from <paramref name="ancestor"/> through the trace's parent links.</summary>
    private static bool IsWithin(Activity span, Activity ancestor, Activity[] trace)
    {
        var bySpan = trace.GroupBy(s => s.SpanId).ToDictionary(g => g.Key, g => g.First());
        for (var current = span; current is not null; current = bySpan.GetValueOrDefault(current.ParentSpanId))
        {
            if (current.SpanId == ancestor.SpanId)
            {
                return true;
            }
        }

        return false;
    }

    private async Task<(ApiFactory Api, Uri Url)> StartApiAsync(bool jobServer)
    {
        var port = HostProcess.FreePort();
        var url = new Uri($"http://127.0.0.1:{port}/");
        var api = await LiveSystem.StartOnKestrelAsync(() => ApiFactory.WithSandbox(_database.ConnectionString, sandbox,
            services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(new LockedList(_spans))),
            jobServer, new Dictionary<string, string?>
            {
                ["Api:PublicBaseUrl"] = url.AbsoluteUri.TrimEnd('/'),
                ["Operator:DashboardPassword"] = OperatorPassword,
                ["Telemetry:GaugeInterval"] = "00:00:01",
                ["Telemetry:Traces"] = "true",
            }), factory =>
            {
                factory.UseKestrel(port);
                factory.StartServer();
            });
        api.ClientOptions.BaseAddress = url;
        api.LiveUrl = url;
        _hosts.Add(api);
        return (api, url);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in Enumerable.Reverse(_hosts))
        {
            await host.DisposeAsync();
        }

        await _database.DisposeAsync();
    }

    /// <summary>The in-memory exporter's list, written under a lock (spans end on many threads).</summary>
    private sealed class LockedList(List<Activity> inner) : ICollection<Activity>
    {
        public int Count { get { lock (inner) { return inner.Count; } } }

        public bool IsReadOnly => false;

        public void Add(Activity item) { lock (inner) { inner.Add(item); } }

        public void Clear() { lock (inner) { inner.Clear(); } }

        public bool Contains(Activity item) { lock (inner) { return inner.Contains(item); } }

        public void CopyTo(Activity[] array, int arrayIndex) { lock (inner) { inner.CopyTo(array, arrayIndex); } }

        public bool Remove(Activity item) { lock (inner) { return inner.Remove(item); } }

        public IEnumerator<Activity> GetEnumerator() { lock (inner) { return inner.ToList().GetEnumerator(); } }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
