using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aggregator.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.IntegrationTests.Connections;

/// <summary>A patient's live events over Server-Sent Events: sync progress in order, resumable, and open to a browser's EventSource.</summary>
public sealed class EventStreamTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox, jobServer: true,
    settings: new Dictionary<string, string?> { ["Events:HeartbeatInterval"] = "00:00:00.300" })
{
    [Fact]
    public async Task A_syncs_progress_arrives_in_order_and_ends_with_sync_finished()
    {
        var (patientId, connectionId) = await ConnectedAsync("nextgen", 3, "stream-progress");
        using var stream = await OpenAsync(Tenant, patientId);

        var runId = await RequestFullSyncAsync(connectionId);
        var events = await stream.UntilAsync(e => e.Event == "sync.finished" && e.Json.GetProperty("syncRunId").GetGuid() == runId);

        var ids = events.Select(e => long.Parse(e.Id!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(ids.Order().ToList(), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        var progress = events.Where(e => e.Event == "sync.progress" && e.Json.GetProperty("syncRunId").GetGuid() == runId).Select(e => e.Json).ToList();
        Assert.True(progress.Count >= 3, $"only {progress.Count} progress events");
        var soFar = progress.Select(p => p.GetProperty("resourcesSoFar").GetInt32()).ToList();
        Assert.Equal(soFar.Order().ToList(), soFar);
        Assert.Contains(progress, p => p.GetProperty("resourceType").GetString() == "Observation" && p.GetProperty("types").GetProperty("Observation").GetInt32() > 0);
        var finished = events[^1].Json;
        Assert.Equal("succeeded", finished.GetProperty("status").GetString());
        Assert.Equal(connectionId, finished.GetProperty("connectionId").GetGuid());
        Assert.True(finished.GetProperty("resourcesSoFar").GetInt32() >= soFar[^1]);
    }

    [Fact]
    public async Task A_dropped_stream_resumes_after_its_last_event_id_and_too_old_an_id_gets_a_reset()
    {
        var (patientId, connectionId) = await ConnectedAsync("epic", 3, "stream-resume");
        List<ServerSentEvent> seen;
        Guid runId;
        using (var first = await OpenAsync(Tenant, patientId))
        {
            runId = await RequestFullSyncAsync(connectionId);
            seen = await first.UntilAsync(e => e.Event == "sync.finished" && e.Json.GetProperty("syncRunId").GetGuid() == runId);
        }

        Assert.True(seen.Count >= 3);
        using (var resumed = await OpenAsync(Tenant, patientId, lastEventId: seen[0].Id))
        {
            var again = await resumed.UntilAsync(e => e.Id == seen[^1].Id);
            Assert.Equal(seen.Skip(1).Select(e => (e.Id, e.Event, e.Data)), again.Select(e => (e.Id, e.Event, e.Data)));
        }

        // Events past their retention cannot be replayed: the client is told to start over.
        await using (var db = Database.CreateContext())
        {
            await db.PatientEvents.Where(e => e.PatientId == patientId && e.Sequence <= long.Parse(seen[1].Id!, System.Globalization.CultureInfo.InvariantCulture))
                .ExecuteDeleteAsync(TestContext.Current.CancellationToken);
        }

        using var stale = await OpenAsync(Tenant, patientId, lastEventId: seen[0].Id);
        var reset = await stale.NextAsync();
        Assert.Equal("reset", reset.Event);
        Assert.Equal(seen[^1].Id, reset.Id);
    }

    [Fact]
    public async Task A_ticket_opens_the_stream_without_a_header_once_and_only_for_its_patient()
    {
        var patientId = (await Tenant.PutPatientAsync("stream-ticket")).GetProperty("id").GetGuid();
        var otherPatient = (await Tenant.PutPatientAsync("stream-other")).GetProperty("id").GetGuid();
        var session = await SessionClientAsync(patientId);
        var ticket = await TicketAsync(session, patientId);
        var anonymous = Api.CreateClient();

        using var stream = await OpenAsync(anonymous, patientId, ticket: ticket);
        var heartbeat = await stream.NextAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("heartbeat", heartbeat.Comment);

        var reused = await anonymous.GetAsync(new Uri($"/v1/patients/{patientId}/events?ticket={ticket}", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, reused.StatusCode);
        var elsewhere = await anonymous.GetAsync(new Uri($"/v1/patients/{otherPatient}/events?ticket={await TicketAsync(Tenant, patientId)}", UriKind.Relative),
            HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, elsewhere.StatusCode);
        var bare = await anonymous.GetAsync(new Uri($"/v1/patients/{patientId}/events", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, bare.StatusCode);
        Assert.StartsWith("Bearer", bare.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        // A session token may not ask for a ticket to another patient's stream.
        var foreign = await session.PostAsync(new Uri($"/v1/patients/{otherPatient}/events/tickets", UriKind.Relative), null, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
    }

    [Fact]
    public async Task A_browser_that_lost_its_ticket_stream_resumes_with_a_new_ticket_and_the_last_id_it_saw()
    {
        var (patientId, connectionId) = await ConnectedAsync("nextgen", 4, "stream-ticket-resume");
        var session = await SessionClientAsync(patientId);
        var anonymous = Api.CreateClient();
        var ticket = await TicketAsync(session, patientId);
        List<ServerSentEvent> seen;
        using (var first = await OpenAsync(anonymous, patientId, ticket: ticket))
        {
            var runId = await RequestFullSyncAsync(connectionId);
            seen = await first.UntilAsync(e => e.Event == "sync.finished" && e.Json.GetProperty("syncRunId").GetGuid() == runId);
        }

        // EventSource's own reconnect repeats the spent ticket (with the header): refused.
        using var retry = new HttpRequestMessage(HttpMethod.Get, $"/v1/patients/{patientId}/events?ticket={ticket}");
        retry.Headers.Add("Last-Event-ID", seen[0].Id);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.SendAsync(retry, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken)).StatusCode);

        // A new EventSource with a new ticket says in its url where it was, and misses nothing after it.
        var fresh = await TicketAsync(session, patientId);
        var resumed = await anonymous.GetAsync(new Uri($"/v1/patients/{patientId}/events?ticket={fresh}&lastEventId={seen[0].Id}", UriKind.Relative),
            HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        using var reader = new EventStreamReader(resumed);
        var again = await reader.UntilAsync(e => e.Id == seen[^1].Id);
        Assert.Equal(seen.Skip(1).Select(e => (e.Id, e.Event, e.Data)), again.Select(e => (e.Id, e.Event, e.Data)));
    }

    [Fact]
    public async Task A_ticket_asked_for_by_a_session_that_is_revoked_before_it_is_used_opens_nothing()
    {
        var patientId = (await Tenant.PutPatientAsync("stream-ticket-revoked")).GetProperty("id").GetGuid();
        var session = await SessionClientAsync(patientId);
        var ticket = await TicketAsync(session, patientId);
        var keyTicket = await TicketAsync(Tenant, patientId);

        var revoked = await Tenant.DeleteAsync(new Uri($"/v1/patients/{patientId}/session-tokens", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        var anonymous = Api.CreateClient();
        var refused = await anonymous.GetAsync(new Uri($"/v1/patients/{patientId}/events?ticket={ticket}", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        // The tenant's own ticket does not depend on the patient's sessions.
        using var stream = await OpenAsync(anonymous, patientId, ticket: keyTicket);
        Assert.Equal("heartbeat", (await stream.NextAsync(TimeSpan.FromSeconds(10))).Comment);
    }

    [Fact]
    public async Task A_disconnect_by_the_patients_own_session_token_reaches_the_stream_as_connection_updated()
    {
        var (patientId, connectionId) = await ConnectedAsync("cerner", 3, "stream-disconnect");
        var session = await SessionClientAsync(patientId);
        using var stream = await OpenAsync(session, patientId);

        var disconnected = await session.DeleteAsync(new Uri($"/v1/connections/{connectionId}", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NoContent, disconnected.StatusCode);
        var update = (await stream.UntilAsync(e => e.Event == "connection.updated"))[^1].Json;
        Assert.Equal(connectionId, update.GetProperty("connectionId").GetGuid());
        Assert.Equal("revoked", update.GetProperty("status").GetString());
    }

    private async Task<(Guid PatientId, Guid ConnectionId)> ConnectedAsync(string persona, int person, string externalId)
    {
        var ids = await Api.ConnectAsync(Tenant, Sandbox, $"sandbox-{persona}-r4", Sandbox.Generated(persona, "R4", person), externalId);
        await Tenant.WaitForRunAsync(ids.ConnectionId);
        return ids;
    }

    private async Task<Guid> RequestFullSyncAsync(Guid connectionId)
    {
        var response = await Tenant.PostAsync(new Uri($"/v1/connections/{connectionId}/sync?full=true", UriKind.Relative), null, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.True(body.GetProperty("started").GetBoolean());
        return body.GetProperty("syncRunId").GetGuid();
    }

    private async Task<EventStreamReader> OpenAsync(HttpClient client, Guid patientId, string? lastEventId = null, string? ticket = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/patients/{patientId}/events" + (ticket is null ? "" : "?ticket=" + ticket));
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new EventStreamReader(response);
    }


    private static async Task<string> TicketAsync(HttpClient client, Guid patientId)
    {
        var response = await client.PostAsync(new Uri($"/v1/patients/{patientId}/events/tickets", UriKind.Relative), null, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.True(body.GetProperty("expiresAt").GetDateTimeOffset() <= DateTimeOffset.UtcNow.AddSeconds(61));
        return body.GetProperty("ticket").GetString()!;
    }
}
