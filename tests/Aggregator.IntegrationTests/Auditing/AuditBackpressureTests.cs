using System.Net;
using Aggregator.IntegrationTests.Infrastructure;

namespace Aggregator.IntegrationTests.Auditing;

/// <summary>
/// An audit writer that falls behind slows those who record instead of dropping events: with a buffer of 16 events, a
/// burst of 1,000 concurrent reads still leaves 1,000 events.
/// </summary>
public sealed class AuditBackpressureTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox,
    settings: new Dictionary<string, string?> { ["Audit:BufferCapacity"] = "16", ["Audit:BatchSize"] = "50", ["Audit:FlushInterval"] = "00:00:00.050" })
{
    [Fact]
    public async Task A_burst_of_1000_concurrent_reads_leaves_1000_audit_events_though_the_buffer_holds_16()
    {
        var patientId = (await Tenant.PutPatientAsync("burst")).GetProperty("id").GetGuid();

        var reads = await Task.WhenAll(Enumerable.Range(0, 1000).Select(_ =>
            Tenant.GetAsync(new Uri($"/v1/patients/{patientId}/record", UriKind.Relative), TestContext.Current.CancellationToken)));

        Assert.All(reads, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var requestIds = new HashSet<string>(StringComparer.Ordinal);
        for (var attempt = 0; attempt < 200 && requestIds.Count < 1000; attempt++)
        {
            requestIds.Clear();
            string? cursor = null;
            do
            {
                var page = await Tenant.GetJsonAsync($"/v1/audit-events?patientId={patientId}&limit=500" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
                requestIds.UnionWith(page.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("requestId").GetString()!));
                cursor = page.GetProperty("nextCursor").GetString();
            }
            while (cursor is not null);

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        Assert.Equal(1000, requestIds.Count);
    }
}
