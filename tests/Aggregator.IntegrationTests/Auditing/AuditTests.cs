using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aggregator.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.IntegrationTests.Auditing;

/// <summary>
/// Every successful read of a patient's data, every connect (also from the hosted Connect page) and every operator command
/// leaves an audit event the tenant can list; refused reads leave none.
/// </summary>
public sealed class AuditTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox,
    settings: new Dictionary<string, string?> { ["Api:WebBaseUrl"] = "https://connect.coral.example" })
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

    [Fact]
    public async Task Starting_a_connection_and_cancelling_on_the_hosted_Connect_page_are_audited_as_the_link_session()
    {
        var patientId = (await Tenant.PutPatientAsync("linked")).GetProperty("id").GetGuid();
        var created = await Tenant.PostAsJsonAsync(new Uri($"/v1/patients/{patientId}/link-sessions", UriKind.Relative), new { returnUrl = ConnectedPatients.ReturnUrl }, TestContext.Current.CancellationToken);
        var session = await created.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var sessionId = session.GetProperty("id").GetGuid();
        var token = QueryHelpers.ParseQuery(new Uri(session.GetProperty("url").GetString()!).Query)["token"].ToString();
        var opened = await Api.CreateClient().PostAsJsonAsync(new Uri("/v1/link-sessions/open", UriKind.Relative), new { token }, TestContext.Current.CancellationToken);
        var page = Api.CreateClient().WithBearer((await opened.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("credential").GetString()!);
        Assert.Equal(HttpStatusCode.NoContent, (await page.PostAsync(new Uri($"/v1/link-sessions/{sessionId}/consent", UriKind.Relative), null, TestContext.Current.CancellationToken)).StatusCode);
        var provider = (await Tenant.GetJsonAsync("/v1/providers?q=sandbox-epic-r4")).GetProperty("items")[0].GetProperty("id").GetGuid();

        var started = await page.PostAsJsonAsync(new Uri($"/v1/link-sessions/{sessionId}/connections", UriKind.Relative), new { providerId = provider }, TestContext.Current.CancellationToken);
        var cancelled = await page.PostAsJsonAsync(new Uri($"/v1/link-sessions/{sessionId}/cancel", UriKind.Relative), new { }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        var events = await WaitForEventsAsync(patientId, 2);
        Assert.Equal(
            [
                ("link_session", $"link:{sessionId}", "POST /v1/link-sessions/{linkSessionId:guid}/cancel"),
                ("link_session", $"link:{sessionId}", "POST /v1/link-sessions/{linkSessionId:guid}/connections"),
            ],
            events.Select(e => (e.GetProperty("actorType").GetString(), e.GetProperty("actorId").GetString(), e.GetProperty("action").GetString())).ToList());
    }

    [Fact]
    public async Task Every_operator_command_leaves_an_operator_event_in_the_trail_of_the_tenant_it_touched()
    {
        var tenant = TenantId.ToString();

        var created = await CliAsync("tenants", "create", "Reef Clinic", "--return-url", "https://reef.example/connected");
        var key = await CliAsync("keys", "create", tenant, "--name", "backend");
        await CliAsync("keys", "list", tenant);
        await CliAsync("tenants", "update", tenant, "--webhook-url", "http://127.0.0.1:9/hooks");
        await CliAsync("tenants", "webhook-secret", tenant, "--rotate");
        await CliAsync("providers", "set-client", "sandbox-epic-r4", "--client-id", "coral-own-app", "--tenant", tenant);
        var firstDemo = await CliAsync("tenants", "demo", "--return-url", "http://127.0.0.1:5080/demo/return");
        var secondDemo = await CliAsync("tenants", "demo");

        // The tenant's own trail: its creation (by the test's set-up) and each command that touched it, by the operator.
        string ownKey;
        await using (var db = Database.CreateContext())
        {
            ownKey = (await db.ApiKeys.SingleAsync(k => k.Id == TenantKeyId, TestContext.Current.CancellationToken)).Prefix;
        }

        AssertActions(
            [
                "tenants create", "keys create " + ownKey, "keys create " + Prefix(OperatorCli.LastLine(key)), "keys list", "tenants update",
                "tenants webhook-secret", "tenants webhook-secret --rotate", "providers set-client sandbox-epic-r4",
            ],
            await OperatorEventsAsync(Tenant));
        // A new tenant's trail starts with its creation and its first key.
        AssertActions(["tenants create", "keys create " + Prefix(OperatorCli.LastLine(created))], await OperatorEventsAsync(Api.CreateClient().WithBearer(OperatorCli.LastLine(created))));
        // The demo tenant's: created with a key, then the second run revoked that key and issued another.
        AssertActions(
            [
                "tenants demo", "keys create " + Prefix(OperatorCli.LastLine(firstDemo)),
                "tenants demo", "keys revoke " + Prefix(OperatorCli.LastLine(firstDemo)), "keys create " + Prefix(OperatorCli.LastLine(secondDemo)),
            ],
            await OperatorEventsAsync(Api.CreateClient().WithBearer(OperatorCli.LastLine(secondDemo))));
    }

    /// <summary>Runs an operator command against this class's database; it must succeed.</summary>
    private async Task<string> CliAsync(params string[] args)
    {
        var (code, stdout, stderr) = await OperatorCli.RunAsync(Database.ConnectionString, args);
        Assert.True(code == 0, $"{string.Join(' ', args)} exited {code}: {stderr}");
        return stdout;
    }

    /// <summary>A key's prefix, as the trail names it (never the key).</summary>
    private static string Prefix(string key) => key[..17];

    /// <summary>The operator's events in a tenant's trail (as <c>(action, actorId)</c>, oldest first).</summary>
    private static async Task<List<(string Action, string ActorId)>> OperatorEventsAsync(HttpClient tenant) =>
        [.. (await tenant.GetJsonAsync("/v1/audit-events?limit=500")).GetProperty("items").EnumerateArray()
            .Where(e => e.GetProperty("actorType").GetString() == "operator")
            .Select(e => (e.GetProperty("action").GetString()!, e.GetProperty("actorId").GetString()!))
            .Reverse()];

    /// <summary>
    /// The trail holds exactly these actions, each by the CLI (compared in order of action: the events one command saves
    /// together carry no order among themselves).
    /// </summary>
    private static void AssertActions(string[] expected, List<(string Action, string ActorId)> events)
    {
        Assert.Equal(expected.Order(StringComparer.Ordinal), events.Select(e => e.Action).Order(StringComparer.Ordinal));
        Assert.All(events, e => Assert.Equal("cli", e.ActorId));
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
