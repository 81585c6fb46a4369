using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Aggregator.Domain.Webhooks;
using Aggregator.Infrastructure.Records;
using Aggregator.Infrastructure.Tenants;
using Aggregator.IntegrationTests.Infrastructure;
using Aggregator.Sandbox.Tests.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.IntegrationTests.Records;

/// <summary>
/// A patient's rights over their data, over real HTTP against real PostgreSQL and the sandbox: a purge that leaves
/// nothing behind (even with a sync writing), deletion of a patient, a full export, sessions that can be revoked, and a
/// tenant that can be suspended.
/// </summary>
public sealed class PatientRightsTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox, jobServer: true,
    // Small pages, so that a slowed sync has batches left to write when the purge comes.
    // A failed webhook delivery waits an hour for its retry: still pending when a test deletes its patient.
    settings: new Dictionary<string, string?> { ["Sync:MaxPageSize"] = "10", ["Events:HeartbeatInterval"] = "00:00:00.500", ["Webhooks:RetryDelays:0"] = "01:00:00" })
{
    [Fact]
    public async Task A_purge_during_a_running_sync_leaves_nothing_of_that_connection_on_any_read_path_and_keeps_what_others_stated()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await UseWebhookAsync(receiver.Url);
        var epic = Sandbox.Generated("epic", "R4", 6);
        var nextgen = Sandbox.Generated("nextgen", "R4", 6);
        var (patientId, epicConnection) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-epic-r4", epic, "p-purge");
        await Tenant.WaitForRunAsync(epicConnection);
        var nextgenConnection = await Api.ConnectExistingAsync(Tenant, Sandbox, patientId, "sandbox-nextgen-r4", nextgen);
        await Tenant.WaitForRunAsync(nextgenConnection);
        var before = await ItemsAsync(patientId);
        var shared = before.Where(i => Sources(i).Contains(epicConnection) && Sources(i).Contains(nextgenConnection)).Select(i => i.GetProperty("id").GetGuid()).ToList();
        Assert.NotEmpty(shared);
        // A lab test whose trend NextGen contributes to.
        var nextgenName = (await Tenant.GetJsonAsync($"/v1/patients/{patientId}/record")).GetProperty("sources").EnumerateArray()
            .Single(s => s.GetProperty("connectionId").GetGuid() == nextgenConnection).GetProperty("provider").GetString()!;
        string? trendCode = null;
        foreach (var code in before.Where(i => Sources(i).Contains(nextgenConnection) && i.GetProperty("category").GetString() == "labs")
            .Select(i => i.TryGetProperty("code", out var c) ? c : default).Where(c => c.ValueKind == JsonValueKind.Object && c.GetProperty("system").GetString() == "http://loinc.org")
            .Select(c => c.GetProperty("code").GetString()!).Distinct().Order(StringComparer.Ordinal))
        {
            if ((await TrendProvidersAsync(patientId, code)).Any(p => p.Contains(nextgenName)))
            {
                trendCode = code;
                break;
            }
        }

        Assert.NotNull(trendCode);
        using var stream = await OpenEventsAsync(patientId);

        // A full sync of NextGen, slowed down, is writing when the purge comes.
        await Sandbox.Server.InjectFaultAsync(new FaultSpec("nextgen", "latency") { PatientId = nextgen.PatientId, LatencyMs = 300 });
        var started = await Tenant.PostAsync(new Uri($"/v1/connections/{nextgenConnection}/sync?full=true", UriKind.Relative), null, TestContext.Current.CancellationToken);
        var runId = (await started.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("syncRunId").GetGuid();
        await WaitForRunningAsync(nextgenConnection, runId);
        var versionBefore = (await Tenant.GetJsonAsync($"/v1/patients/{patientId}/record")).GetProperty("recordVersion").GetInt64();

        var purge = await Tenant.DeleteAsync(new Uri($"/v1/connections/{nextgenConnection}?purge=true", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NoContent, purge.StatusCode);
        var run = await Tenant.WaitForRunAsync(nextgenConnection, runId);
        Assert.Equal("failed", run.GetProperty("status").GetString());
        Assert.Contains("disconnected", run.GetProperty("error").GetString(), StringComparison.Ordinal);
        await using (var db = Database.CreateContext())
        {
            Assert.Equal(0, await db.SourceResources.CountAsync(r => r.ConnectionId == nextgenConnection, TestContext.Current.CancellationToken));
        }

        // No read path names the purged connection.
        var summary = await Tenant.GetJsonAsync($"/v1/patients/{patientId}/record");
        Assert.Equal([epicConnection], summary.GetProperty("sources").EnumerateArray().Select(s => s.GetProperty("connectionId").GetGuid()));
        var paths = new List<string> { $"/v1/patients/{patientId}/record", $"/v1/patients/{patientId}/timeline?limit=500", $"/v1/patients/{patientId}/changes?limit=500", $"/fhir/r4/Patient/{patientId}/$everything", $"/v1/patients/{patientId}/export?include=sources", $"/v1/patients/{patientId}/labs/trends?code={trendCode}" };
        paths.AddRange(summary.GetProperty("categories").EnumerateArray().Select(c => $"/v1/patients/{patientId}/record/{c.GetProperty("category").GetString()}?limit=500"));
        foreach (var path in paths)
        {
            var body = await Tenant.GetStringAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);
            Assert.DoesNotContain(nextgenConnection.ToString(), body, StringComparison.Ordinal);
        }

        // What Epic stated too is still there, now from Epic alone; what only NextGen stated is gone.
        var after = await ItemsAsync(patientId);
        Assert.All(shared, id => Assert.Equal([epicConnection], Sources(after.Single(i => i.GetProperty("id").GetGuid() == id))));
        Assert.Equal(before.Count(i => Sources(i).Contains(epicConnection)), after.Count);
        // The lab's trend goes on from Epic's results alone.
        Assert.All(await TrendProvidersAsync(patientId, trendCode), providers => Assert.DoesNotContain(nextgenName, providers));

        // The record has a newer version, and it is announced: on the patient's event stream and to the tenant's webhook.
        var versionAfter = summary.GetProperty("recordVersion").GetInt64();
        Assert.True(versionAfter > versionBefore, $"record version {versionAfter} after the purge, {versionBefore} before");
        await stream.UntilAsync(e => e.Event == "record.updated" && e.Json.GetProperty("recordVersion").GetInt64() == versionAfter);
        await receiver.WaitForAsync(r => r.Any(h => h.Body.Contains("\"record.updated\"", StringComparison.Ordinal)
            && JsonDocument.Parse(h.Body).RootElement.GetProperty("data") is var data
            && data.GetProperty("patientId").GetGuid() == patientId && data.GetProperty("recordVersion").GetInt64() == versionAfter));
    }

    /// <summary>Each point of a lab's trend, as the providers it names.</summary>
    private async Task<List<List<string>>> TrendProvidersAsync(Guid patientId, string code) =>
        [.. (await Tenant.GetJsonAsync($"/v1/patients/{patientId}/labs/trends?code={Uri.EscapeDataString(code)}")).GetProperty("points").EnumerateArray()
            .Select(p => p.GetProperty("providers").EnumerateArray().Select(n => n.GetString()!).ToList())];

    /// <summary>The patient's event stream, opened now with the tenant's key.</summary>
    private async Task<EventStreamReader> OpenEventsAsync(Guid patientId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/v1/patients/{patientId}/events", UriKind.Relative));
        var response = await Tenant.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return new EventStreamReader(response);
    }

    [Fact]
    public async Task Deleting_a_patient_revokes_its_grants_deletes_every_row_keeps_its_audit_trail_and_frees_its_external_id()
    {
        // The tenant's endpoint is down while the patient syncs: the sync's events wait as pending deliveries.
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.FailFirst = int.MaxValue;
        await UseWebhookAsync(receiver.Url);
        var login = Sandbox.Login("nextgen", "R4", 6);
        var (patientId, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-nextgen-r4", login, "p-delete");
        await Tenant.WaitForRunAsync(connectionId);
        var tokens = await ReadTokensAsync(connectionId);
        var pending = await PendingDeliveriesNamingAsync(patientId);
        receiver.FailFirst = 0;
        await using (var db = Database.CreateContext())
        {
            Assert.NotEqual(0, await db.Coverage.CountAsync(c => c.ConnectionId == connectionId, TestContext.Current.CancellationToken));
        }

        var session = Api.CreateClient().WithBearer(await SessionTokenAsync(patientId));
        Assert.Equal(HttpStatusCode.OK, (await session.GetAsync(new Uri($"/v1/patients/{patientId}/record", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);

        var deleted = await Tenant.DeleteAsync(new Uri($"/v1/patients/{patientId}", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        foreach (var path in new[] { "", "/record", "/record/labs", "/timeline", "/connections", "/export", "/audit-events", "/events" })
        {
            var answer = await Tenant.GetAsync(new Uri($"/v1/patients/{patientId}{path}", UriKind.Relative), TestContext.Current.CancellationToken);
            Assert.True(answer.StatusCode == HttpStatusCode.NotFound, $"{path}: {answer.StatusCode}");
        }

        Assert.Equal(HttpStatusCode.NotFound, (await Tenant.GetAsync(new Uri($"/fhir/r4/Patient/{patientId}/$everything", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Tenant.GetAsync(new Uri($"/v1/connections/{connectionId}", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await session.GetAsync(new Uri($"/v1/patients/{patientId}/record", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Tenant.DeleteAsync(new Uri($"/v1/patients/{patientId}", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        await using (var db = Database.CreateContext())
        {
            Assert.Equal(0, await db.SourceResources.CountAsync(r => r.ConnectionId == connectionId, TestContext.Current.CancellationToken));
            Assert.Equal(0, await db.RecordItems.CountAsync(i => i.PatientId == patientId, TestContext.Current.CancellationToken));
            Assert.Equal(0, await db.SyncRuns.CountAsync(r => r.ConnectionId == connectionId, TestContext.Current.CancellationToken));
            Assert.Equal(0, await db.PatientEvents.CountAsync(e => e.PatientId == patientId, TestContext.Current.CancellationToken));
            Assert.Equal(0, await db.Coverage.CountAsync(c => c.ConnectionId == connectionId, TestContext.Current.CancellationToken));
            // The deliveries that waited are gone (not sent later); only patient.deleted names the patient now.
            Assert.Equal(0, await db.WebhookDeliveries.CountAsync(d => pending.Contains(d.Id), TestContext.Current.CancellationToken));
            Assert.Equal(0, await db.WebhookDeliveries.CountAsync(
                d => d.Status == WebhookDeliveryStatus.Pending && d.EventType != "patient.deleted" && d.Payload.Contains(patientId.ToString()), TestContext.Current.CancellationToken));
        }

        // The grant is revoked at the provider: its refresh token no longer works there.
        Assert.Equal("invalid_grant", await RefreshAtSandboxAsync(tokens.RefreshToken!));

        // The tenant hears it, and keeps the audit trail (who did what when; nothing clinical).
        var hooks = await receiver.WaitForAsync(r => r.Any(h => h.Body.Contains("patient.deleted", StringComparison.Ordinal)));
        var data = JsonDocument.Parse(hooks.First(h => h.Body.Contains("patient.deleted", StringComparison.Ordinal)).Body).RootElement.GetProperty("data");
        Assert.Equal(patientId, data.GetProperty("patientId").GetGuid());
        Assert.Equal("p-delete", data.GetProperty("externalId").GetString());
        Assert.True(data.TryGetProperty("deletedAt", out _));
        var trail = await WaitForTenantTrailAsync(patientId, "DELETE /v1/patients/{patientId:guid}");
        Assert.Contains(trail, e => e.GetProperty("action").GetString() == "GET /v1/patients/{patientId:guid}/record" && e.GetProperty("actorType").GetString() == "session_token");
        Assert.All(trail, e => Assert.Equal(patientId, e.GetProperty("patientId").GetGuid()));

        // The same external id registers a new patient.
        var again = await Tenant.PutPatientAsync("p-delete");
        Assert.NotEqual(patientId, again.GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task The_export_streams_the_whole_record_as_a_bundle_or_ndjson_by_type_with_the_providers_resources_on_request()
    {
        var login = Sandbox.Generated("epic", "R4", 7);
        var (patientId, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-epic-r4", login, "p-export");
        await Tenant.WaitForRunAsync(connectionId);
        var everything = await Tenant.GetJsonAsync($"/fhir/r4/Patient/{patientId}/$everything");

        var bundle = await Tenant.GetAsync(new Uri($"/v1/patients/{patientId}/export", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal("application/fhir+json", bundle.Content.Headers.ContentType?.MediaType);
        var exported = await bundle.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal("Bundle", exported.GetProperty("resourceType").GetString());
        Assert.Equal("collection", exported.GetProperty("type").GetString());
        var fullUrls = FullUrls(exported);
        Assert.Equal(FullUrls(everything).Order(StringComparer.Ordinal), fullUrls.Order(StringComparer.Ordinal));
        Assert.Contains(Types(exported), t => t == "Provenance");
        Assert.Equal(Types(exported).Count(t => t == "Provenance"), Types(exported).Count(t => t is not ("Provenance" or "Practitioner" or "PractitionerRole" or "Organization" or "Location" or "Medication")));

        // NDJSON: one resource per line, the same resources, each type in one run of lines.
        using var asNdjson = new HttpRequestMessage(HttpMethod.Get, new Uri($"/v1/patients/{patientId}/export", UriKind.Relative));
        asNdjson.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/fhir+ndjson"));
        var ndjson = await Tenant.SendAsync(asNdjson, TestContext.Current.CancellationToken);
        Assert.Equal("application/fhir+ndjson", ndjson.Content.Headers.ContentType?.MediaType);
        var lines = (await ndjson.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var lineTypes = lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("resourceType").GetString()!).ToList();
        Assert.Equal(Types(exported).Order(StringComparer.Ordinal), lineTypes.Order(StringComparer.Ordinal));
        Assert.Equal(lineTypes.Distinct().Count(), lineTypes.Where((t, i) => i == 0 || lineTypes[i - 1] != t).Count());

        // _type keeps those types; include=sources adds every stored resource of the provider, as stored.
        var labs = await Tenant.GetJsonAsync($"/v1/patients/{patientId}/export?_type=Observation");
        Assert.All(Types(labs), t => Assert.Equal("Observation", t));
        Assert.Equal(Types(exported).Count(t => t == "Observation"), Types(labs).Count);
        var withSources = await Tenant.GetJsonAsync($"/v1/patients/{patientId}/export?include=sources");
        int stored;
        await using (var db = Database.CreateContext())
        {
            stored = await db.SourceResources.CountAsync(r => r.ConnectionId == connectionId && r.DeletedAt == null && r.Resource != null, TestContext.Current.CancellationToken);
        }

        var providerEntries = withSources.GetProperty("entry").EnumerateArray().Where(e => e.GetProperty("fullUrl").GetString()!.StartsWith($"urn:aggregator:connection:{connectionId}/", StringComparison.Ordinal)).ToList();
        Assert.Equal(stored, providerEntries.Count);
        Assert.Equal(fullUrls.Count + stored, withSources.GetProperty("entry").GetArrayLength());

        // The patient's own session exports; anyone else's does not; a bad parameter is a problem answer.
        var session = Api.CreateClient().WithBearer(await SessionTokenAsync(patientId));
        Assert.Equal(HttpStatusCode.OK, (await session.GetAsync(new Uri($"/v1/patients/{patientId}/export", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        var other = (await Tenant.PutPatientAsync("p-export-other")).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.NotFound, (await session.GetAsync(new Uri($"/v1/patients/{other}/export", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        var bad = await Tenant.GetAsync(new Uri($"/v1/patients/{patientId}/export?include=everything", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        await WaitForTenantTrailAsync(patientId, "GET /v1/patients/{patientId:guid}/export");
    }

    [Fact]
    public async Task An_export_is_the_record_as_it_was_when_it_began_whatever_commits_while_it_streams()
    {
        var login = Sandbox.Login("cerner", "R4", 1);
        var (patientId, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-cerner-r4", login, "p-snapshot");
        await Tenant.WaitForRunAsync(connectionId);
        var export = new Uri($"/v1/patients/{patientId}/export?include=sources", UriKind.Relative);
        var whole = ProviderEntries(await Tenant.GetJsonAsync(export.OriginalString), connectionId);
        // The providers' resources come last, by type: the last type's are read at the very end of the export.
        var lastType = whole.Select(u => u.Split('/')[^2]).Order(StringComparer.Ordinal).Last();

        using var response = await Tenant.GetAsync(export, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        await using var body = await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken);
        var start = new byte[1024];
        await body.ReadExactlyAsync(start, TestContext.Current.CancellationToken);
        // While it streams, a sync that no longer finds that type's resources commits their deletion.
        int gone;
        await using (var db = Database.CreateContext())
        {
            gone = await db.SourceResources.Where(r => r.ConnectionId == connectionId && r.ResourceType == lastType)
                .ExecuteUpdateAsync(set => set.SetProperty(r => r.DeletedAt, DateTimeOffset.UtcNow), TestContext.Current.CancellationToken);
        }

        using var rest = new MemoryStream();
        rest.Write(start);
        await body.CopyToAsync(rest, TestContext.Current.CancellationToken);
        var during = ProviderEntries(JsonDocument.Parse(rest.ToArray()).RootElement, connectionId);
        var after = ProviderEntries(await Tenant.GetJsonAsync(export.OriginalString), connectionId);

        Assert.True(gone > 0);
        Assert.Equal(whole.Order(StringComparer.Ordinal), during.Order(StringComparer.Ordinal));
        Assert.Equal(whole.Count - gone, after.Count);
        Assert.DoesNotContain(after, u => u.Split('/')[^2] == lastType);
    }

    private static List<string> ProviderEntries(JsonElement bundle, Guid connectionId) =>
        [.. FullUrls(bundle).Where(u => u.StartsWith($"urn:aggregator:connection:{connectionId}/", StringComparison.Ordinal))];

    [Fact]
    public async Task Revoking_a_patients_sessions_ends_every_token_issued_before_on_every_replica_and_new_ones_work()
    {
        var patientId = (await Tenant.PutPatientAsync("p-sessions")).GetProperty("id").GetGuid();
        var token = await SessionTokenAsync(patientId);
        // A second replica on the same database has already seen (and cached) the token.
        await using var replica = ApiFactory.WithSandbox(Database.ConnectionString, Sandbox);
        var onReplica = replica.CreateClient().WithBearer(token);
        var here = Api.CreateClient().WithBearer(token);
        Assert.Equal(HttpStatusCode.OK, (await onReplica.GetAsync(new Uri($"/v1/patients/{patientId}", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await here.GetAsync(new Uri($"/v1/patients/{patientId}", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);

        // An event stream the token opened before.
        using var open = await here.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri($"/v1/patients/{patientId}/events", UriKind.Relative)), HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, open.StatusCode);

        var revoked = await Tenant.DeleteAsync(new Uri($"/v1/patients/{patientId}/session-tokens", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        using (var ended = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
        {
            // The open stream ends (the server closes it) instead of going on with a revoked token.
            await open.Content.ReadAsStringAsync(ended.Token);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await here.GetAsync(new Uri($"/v1/patients/{patientId}", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        await WaitForStatusAsync(onReplica, $"/v1/patients/{patientId}", HttpStatusCode.Unauthorized);
        var fresh = Api.CreateClient().WithBearer(await SessionTokenAsync(patientId));
        Assert.Equal(HttpStatusCode.OK, (await fresh.GetAsync(new Uri($"/v1/patients/{patientId}", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Tenant.DeleteAsync(new Uri($"/v1/patients/{Guid.NewGuid()}/session-tokens", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task A_suspended_tenants_keys_and_session_tokens_stop_at_once_and_work_again_when_it_resumes()
    {
        var patientId = (await Tenant.PutPatientAsync("p-suspend")).GetProperty("id").GetGuid();
        var session = Api.CreateClient().WithBearer(await SessionTokenAsync(patientId));
        Assert.Equal(HttpStatusCode.OK, (await session.GetAsync(new Uri($"/v1/patients/{patientId}", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);

        var (code, stdout, _) = await OperatorCli.RunAsync(Database.ConnectionString, "tenants", "suspend", TenantId.ToString());

        Assert.Equal(0, code);
        Assert.Contains("suspended", stdout, StringComparison.Ordinal);
        await WaitForStatusAsync(Tenant, "/v1/patients", HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.Unauthorized, (await session.GetAsync(new Uri($"/v1/patients/{patientId}", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);

        Assert.Equal(0, (await OperatorCli.RunAsync(Database.ConnectionString, "tenants", "resume", TenantId.ToString())).Code);
        await WaitForStatusAsync(Tenant, "/v1/patients", HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.OK, (await session.GetAsync(new Uri($"/v1/patients/{patientId}", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);

        // Each operator command is in the tenant's audit trail, by the operator.
        var trail = (await Tenant.GetJsonAsync("/v1/audit-events")).GetProperty("items").EnumerateArray().ToList();
        Assert.Contains(trail, e => e.GetProperty("actorType").GetString() == "operator" && e.GetProperty("action").GetString() == "tenants suspend");
        Assert.Contains(trail, e => e.GetProperty("actorType").GetString() == "operator" && e.GetProperty("action").GetString() == "tenants resume");
    }

    private static List<Guid> Sources(JsonElement item) =>
        [.. item.GetProperty("sources").EnumerateArray().Select(s => s.GetProperty("connectionId").GetGuid()).Distinct()];

    private static List<string> FullUrls(JsonElement bundle) =>
        [.. bundle.GetProperty("entry").EnumerateArray().Select(e => e.GetProperty("fullUrl").GetString()!)];

    private static List<string> Types(JsonElement bundle) =>
        [.. bundle.GetProperty("entry").EnumerateArray().Select(e => e.GetProperty("resource").GetProperty("resourceType").GetString()!)];

    /// <summary>Every item of every category of the patient's record.</summary>
    private async Task<List<JsonElement>> ItemsAsync(Guid patientId)
    {
        var items = new List<JsonElement>();
        var summary = await Tenant.GetJsonAsync($"/v1/patients/{patientId}/record");
        foreach (var category in summary.GetProperty("categories").EnumerateArray().Select(c => c.GetProperty("category").GetString()))
        {
            var page = await Tenant.GetJsonAsync($"/v1/patients/{patientId}/record/{category}?limit=500");
            items.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.Clone()));
        }

        return items;
    }

    private async Task WaitForRunningAsync(Guid connectionId, Guid runId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var run = (await Tenant.GetJsonAsync($"/v1/connections/{connectionId}/sync-runs")).GetProperty("items").EnumerateArray().First(r => r.GetProperty("id").GetGuid() == runId);
            if (run.GetProperty("status").GetString() == "running" && run.GetProperty("resourcesSoFar").GetInt32() > 0)
            {
                return;
            }

            Assert.False(timeout.IsCancellationRequested, "The sync did not start writing in time.");
            await Task.Delay(50, CancellationToken.None);
        }
    }

    private static async Task WaitForStatusAsync(HttpClient client, string path, HttpStatusCode expected)
    {
        HttpStatusCode last = default;
        for (var attempt = 0; attempt < 100; attempt++)
        {
            last = (await client.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode;
            if (last == expected)
            {
                return;
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        Assert.Fail($"{path} answered {last}, not {expected}, for 10 seconds.");
    }

    /// <summary>The tenant's audit trail for a patient, once it holds <paramref name="action"/> (events land within seconds).</summary>
    private async Task<List<JsonElement>> WaitForTenantTrailAsync(Guid patientId, string action)
    {
        for (var attempt = 0; ; attempt++)
        {
            var events = (await Tenant.GetJsonAsync($"/v1/audit-events?patientId={patientId}&limit=500")).GetProperty("items").EnumerateArray().Select(e => e.Clone()).ToList();
            if (events.Any(e => e.GetProperty("action").GetString() == action))
            {
                return events;
            }

            Assert.True(attempt < 100, $"No audit event {action} for {patientId}.");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task A_revocation_also_ends_a_token_just_minted_by_a_replica_whose_clock_runs_ahead_and_none_minted_after_it()
    {
        var patientId = (await Tenant.PutPatientAsync("p-skewed-clock")).GetProperty("id").GetGuid();
        // Another replica on the same database whose clock is three seconds ahead of everyone else's.
        await using var ahead = ApiFactory.WithSandbox(Database.ConnectionString, Sandbox,
            services => services.AddSingleton<TimeProvider>(new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow.AddSeconds(3))));
        var tenantThere = ahead.CreateClient();
        tenantThere.DefaultRequestHeaders.Authorization = Tenant.DefaultRequestHeaders.Authorization;

        async Task<string> MintThereAsync()
        {
            var minted = await tenantThere.PostAsJsonAsync(new Uri($"/v1/patients/{patientId}/session-tokens", UriKind.Relative), new { }, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.Created, minted.StatusCode);
            return (await minted.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("token").GetString()!;
        }

        var before = await MintThereAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await Tenant.DeleteAsync(new Uri($"/v1/patients/{patientId}/session-tokens", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        var after = await MintThereAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, (await Api.CreateClient().WithBearer(before).GetAsync(new Uri($"/v1/patients/{patientId}", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Api.CreateClient().WithBearer(after).GetAsync(new Uri($"/v1/patients/{patientId}", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
    }

    /// <summary>The ids of the deliveries naming the patient that failed once and wait for their retry (waits until one does).</summary>
    private async Task<List<Guid>> PendingDeliveriesNamingAsync(Guid patientId)
    {
        for (var attempt = 0; ; attempt++)
        {
            await using (var db = Database.CreateContext())
            {
                var failed = await db.WebhookDeliveries
                    .Where(d => d.Status == WebhookDeliveryStatus.Pending && d.LastError != null && d.Payload.Contains(patientId.ToString()))
                    .Select(d => d.Id).ToListAsync(TestContext.Current.CancellationToken);
                if (failed.Count > 0)
                {
                    return failed;
                }
            }

            Assert.True(attempt < 300, "No webhook delivery naming the patient failed and waited.");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task A_deleted_patients_pages_read_before_are_not_served_afterwards_by_this_replica_or_another()
    {
        var (patientId, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-cerner-r4", Sandbox.Generated("cerner", "R4", 3), "p-delete-cached");
        await Tenant.WaitForRunAsync(connectionId);
        // A second replica on the same database.
        await using var replica = ApiFactory.WithSandbox(Database.ConnectionString, Sandbox);
        var onReplica = replica.CreateClient();
        onReplica.DefaultRequestHeaders.Authorization = Tenant.DefaultRequestHeaders.Authorization;
        string[] paths = [$"/v1/patients/{patientId}/record/labs", $"/v1/patients/{patientId}/timeline", $"/fhir/r4/Patient/{patientId}/$everything"];
        // Each replica has read (and cached) each page, with clinical content in it. (A replica drops what it cached when its
        // listener connects, so it reads again until the pages are kept.)
        foreach (var (client, app) in new[] { (Tenant, Api), (onReplica, replica) })
        {
            for (var attempt = 0; app.Services.GetRequiredService<RecordPageCache>().Entries < paths.Length; attempt++)
            {
                Assert.True(attempt < 50, "The pages were not cached.");
                foreach (var path in paths)
                {
                    var body = await client.GetJsonAsync(path);
                    Assert.NotEqual(0, body.TryGetProperty("items", out var items) ? items.GetArrayLength() : body.GetProperty("entry").GetArrayLength());
                }
            }
        }

        var deleted = await Tenant.DeleteAsync(new Uri($"/v1/patients/{patientId}", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        foreach (var path in paths)
        {
            // Here at once; on the other replica as soon as it hears of the deletion.
            var here = await Tenant.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);
            Assert.True(here.StatusCode == HttpStatusCode.NotFound, $"{path}: {here.StatusCode}");
            await WaitForStatusAsync(onReplica, path, HttpStatusCode.NotFound);
        }

        // And the pages are no longer held in memory.
        Assert.Equal(0, Api.Services.GetRequiredService<RecordPageCache>().Entries);
    }

    private async Task<string> SessionTokenAsync(Guid patientId)
    {
        var minted = await Tenant.PostAsJsonAsync(new Uri($"/v1/patients/{patientId}/session-tokens", UriKind.Relative), new { }, TestContext.Current.CancellationToken);
        return (await minted.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("token").GetString()!;
    }

    private async Task UseWebhookAsync(Uri url)
    {
        await using var scope = Api.Services.CreateOperatorScope();
        await scope.ServiceProvider.GetRequiredService<TenantAdministration>()
            .UpdateTenantAsync(TenantId, new TenantSettings([ConnectedPatients.ReturnUrl], null, url), CancellationToken.None);
    }

    /// <summary>Tries a refresh token at the sandbox; the OAuth error, or "ok".</summary>
    private async Task<string> RefreshAtSandboxAsync(string refreshToken)
    {
        using var refresh = new HttpRequestMessage(HttpMethod.Post, new Uri(Sandbox.Root, "oauth/token"))
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken }),
        };
        refresh.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("nextgen-confidential-app:nextgen-sandbox-secret")));
        using var client = Sandbox.CreateClient();
        var answer = await client.SendAsync(refresh, TestContext.Current.CancellationToken);
        return answer.IsSuccessStatusCode ? "ok" : (await answer.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("error").GetString()!;
    }
}
