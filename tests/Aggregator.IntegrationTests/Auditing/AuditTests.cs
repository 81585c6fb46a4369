using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aggregator.IntegrationTests.Infrastructure;

namespace Aggregator.IntegrationTests.Auditing;

/// <summary>Every successful read of a patient's data leaves an audit event the tenant can list; refused reads leave none.</summary>
public sealed class AuditTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox)
{
    [Fact]
    public async Task Reads_by_key_and_by_session_token_are_audited_with_actor_action_and_request_id()
    {
        var patientId = (await Tenant.PutPatientAsync("audited")).GetProperty("id").GetGuid();
        var session = await SessionAsync(patientId);

        Assert.Equal(HttpStatusCode.OK, (await Tenant.GetAsync(new Uri($"/v1/patients/{patientId}/record", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Tenant.GetAsync(new Uri($"/v1/patients/{patientId}/record/labs", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await session.GetAsync(new Uri($"/fhir/r4/Condition?patient={patientId}", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);

        var events = await WaitForEventsAsync(patientId, 3);

        Assert.Equal(
            [
                ("session_token", $"session:{patientId}", "GET /fhir/r4/Condition"),
                ("api_key", TenantKeyId.ToString(), "GET /v1/patients/{patientId:guid}/record/labs"),
                ("api_key", TenantKeyId.ToString(), "GET /v1/patients/{patientId:guid}/record"),
            ],
            events.Select(e => (e.GetProperty("actorType").GetString(), e.GetProperty("actorId").GetString(), e.GetProperty("action").GetString())).ToList());
        Assert.All(events, e => Assert.False(string.IsNullOrEmpty(e.GetProperty("requestId").GetString())));
    }

    [Fact]
    public async Task A_refused_read_leaves_no_event_and_a_session_token_lists_only_its_own_patients_trail()
    {
        var patientId = (await Tenant.PutPatientAsync("watched")).GetProperty("id").GetGuid();
        var other = (await Tenant.PutPatientAsync("curious")).GetProperty("id").GetGuid();
        var session = await SessionAsync(other);

        var refused = await session.GetAsync(new Uri($"/v1/patients/{patientId}/record", UriKind.Relative), TestContext.Current.CancellationToken);
        var foreignTrail = await session.GetAsync(new Uri($"/v1/patients/{patientId}/audit-events", UriKind.Relative), TestContext.Current.CancellationToken);
        // A read that does happen afterwards shows the trail is being written.
        await Tenant.GetAsync(new Uri($"/v1/patients/{patientId}", UriKind.Relative), TestContext.Current.CancellationToken);
        await Tenant.GetAsync(new Uri($"/v1/patients/{other}/record", UriKind.Relative), TestContext.Current.CancellationToken);
        var events = await WaitForEventsAsync(patientId, 1);
        await WaitForEventsAsync(other, 1);
        var ownTrail = await session.GetFromJsonAsync<JsonElement>(new Uri($"/v1/patients/{other}/audit-events", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, foreignTrail.StatusCode);
        var only = Assert.Single(events);
        Assert.Equal("GET /v1/patients/{patientId:guid}", only.GetProperty("action").GetString());
        // Who read my data: the patient's own token sees the tenant's read of its record.
        var read = Assert.Single(ownTrail.GetProperty("items").EnumerateArray());
        Assert.Equal(("api_key", "GET /v1/patients/{patientId:guid}/record"), (read.GetProperty("actorType").GetString(), read.GetProperty("action").GetString()));
    }

    [Fact]
    public async Task Many_reads_are_written_in_batches_and_listed_page_by_page()
    {
        var patientId = (await Tenant.PutPatientAsync("popular")).GetProperty("id").GetGuid();
        var reads = await Task.WhenAll(Enumerable.Range(0, 60).Select(_ => Tenant.GetAsync(new Uri($"/v1/patients/{patientId}/timeline", UriKind.Relative), TestContext.Current.CancellationToken)));
        Assert.All(reads, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));

        var events = await WaitForEventsAsync(patientId, 60, pageSize: 25);

        Assert.Equal(60, events.Count);
        Assert.Equal(60, events.Select(e => e.GetProperty("requestId").GetString()).Distinct().Count());
    }

    private async Task<HttpClient> SessionAsync(Guid patientId)
    {
        var minted = await Tenant.PostAsJsonAsync(new Uri($"/v1/patients/{patientId}/session-tokens", UriKind.Relative), new { }, TestContext.Current.CancellationToken);
        var token = (await minted.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("token").GetString()!;
        return Api.CreateClient().WithBearer(token);
    }

    /// <summary>The patient's audit events, all pages, once at least <paramref name="count"/> are written (events land within seconds).</summary>
    private async Task<List<JsonElement>> WaitForEventsAsync(Guid patientId, int count, int pageSize = 50)
    {
        for (var attempt = 0; ; attempt++)
        {
            var events = new List<JsonElement>();
            string? cursor = null;
            do
            {
                var page = await Tenant.GetJsonAsync($"/v1/patients/{patientId}/audit-events?limit={pageSize}" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
                events.AddRange(page.GetProperty("items").EnumerateArray().Select(e => e.Clone()));
                cursor = page.GetProperty("nextCursor").GetString();
            }
            while (cursor is not null);

            if (events.Count >= count || attempt == 100)
            {
                return events;
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }
}
