using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aggregator.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.IntegrationTests.ScaleOut;

/// <summary>
/// Two Api processes each keep keys, sessions and record pages in memory; a revocation or a record change made through
/// one (or by an operator's command) reaches the other by NOTIFY, well before its memory would forget on its own.
/// </summary>
public sealed class ScaleOutNotificationTests(PostgresServer server)
{
    /// <summary>How long an Api trusts what it remembers of a key or a patient's sessions without a notice (one minute), less a margin.</summary>
    private static readonly TimeSpan BeforeMemoryLapses = TimeSpan.FromSeconds(50);

    [Fact]
    public async Task A_revoked_key_a_revoked_session_and_a_purged_record_reach_both_api_processes()
    {
        await using var system = await ScaleOutSystem.StartAsync(server, apis: 2, workers: 1, people: 1);
        var (patientId, connectionId) = await system.ConnectAsync("cached", system.Logins.First(l => l.Persona == "epic"), startVia: 0, callbackVia: 1);
        await system.WaitForRunsAsync([connectionId], runs: 1);
        var ct = TestContext.Current.CancellationToken;

        // A second key, seen by both Apis (each now holds it in memory), is revoked with the operator command.
        var (created, stdout, stderr) = await OperatorCli.RunAsync(system.Database.ConnectionString, "keys", "create", system.TenantId.ToString(), "--name", "second");
        Assert.True(created == 0, stderr);
        var key = OperatorCli.LastLine(stdout);
        var keyHeldSince = DateTimeOffset.UtcNow;
        var viaKey = new[] { system.Client(0, key), system.Client(1, key) };
        foreach (var api in viaKey)
        {
            Assert.Equal(HttpStatusCode.OK, (await api.GetAsync(new Uri("/v1/patients", UriKind.Relative), ct)).StatusCode);
        }

        var (revoked, _, revokeErrors) = await OperatorCli.RunAsync(system.Database.ConnectionString, "keys", "revoke", key[..("agg_test_".Length + 8)]);
        Assert.True(revoked == 0, revokeErrors);
        foreach (var api in viaKey)
        {
            await RefusedAsync(api, "/v1/patients", keyHeldSince + BeforeMemoryLapses);
        }

        // A patient's session tokens, revoked through the first Api, stop working at the second.
        var minted = await system.Client(0).PostAsJsonAsync(new Uri($"/v1/patients/{patientId}/session-tokens", UriKind.Relative), new { lifetimeMinutes = 15 }, ct);
        Assert.Equal(HttpStatusCode.Created, minted.StatusCode);
        var session = (await minted.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("token").GetString()!;
        var sessionHeldSince = DateTimeOffset.UtcNow;
        var atSecond = system.Client(1, session);
        Assert.Equal(HttpStatusCode.OK, (await atSecond.GetAsync(new Uri($"/v1/patients/{patientId}", UriKind.Relative), ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await system.Client(0).DeleteAsync(new Uri($"/v1/patients/{patientId}/session-tokens", UriKind.Relative), ct)).StatusCode);
        await RefusedAsync(atSecond, $"/v1/patients/{patientId}", sessionHeldSince + BeforeMemoryLapses);

        // A record page the second Api serves from memory (it keeps answering after the stored items changed behind its
        // back, with no new version announced)...
        var second = system.Client(1);
        var category = (await second.GetJsonAsync($"/v1/patients/{patientId}/record")).GetProperty("categories").EnumerateArray()
            .First(c => c.GetProperty("count").GetInt32() > 0).GetProperty("category").GetString()!;
        var path = $"/v1/patients/{patientId}/record/{category}?limit=5";
        var before = await second.GetStringAsync(new Uri(path, UriKind.Relative), ct);
        await using (var db = system.Database.CreateContext())
        {
            var edited = await db.RecordItems.Where(i => i.PatientId == patientId && i.Category == category)
                .ExecuteUpdateAsync(set => set.SetProperty(i => i.Compact, i => i.Compact.Replace("\"display\":", "\"display\":\"edited\",\"was\":")), ct);
            Assert.True(edited > 0);
        }

        Assert.Equal(before, await second.GetStringAsync(new Uri(path, UriKind.Relative), ct));
        Assert.DoesNotContain("\"items\":[]", before, StringComparison.Ordinal);

        // ...is not served again once the connection is purged through the first Api: the purging Api answers with the
        // new record at once, the other as soon as it hears of the new version.
        Assert.Equal(HttpStatusCode.NoContent, (await system.Client(0).DeleteAsync(new Uri($"/v1/connections/{connectionId}?purge=true", UriKind.Relative), ct)).StatusCode);
        Assert.Empty((await system.Client(0).GetJsonAsync(path)).GetProperty("items").EnumerateArray());
        var after = before;
        await ScaleOutSystem.WaitUntilAsync(async () => (after = await second.GetStringAsync(new Uri(path, UriKind.Relative), ct)) != before,
            "The second Api stops serving the purged page", TimeSpan.FromSeconds(30));
        Assert.Empty(JsonDocument.Parse(after).RootElement.GetProperty("items").EnumerateArray());
    }

    /// <summary>
    /// Waits until <paramref name="client"/>'s credential is refused, which must happen before <paramref name="deadline"/>:
    /// after it the Api's memory would have forgotten the credential by itself, notice or not.
    /// </summary>
    private static async Task RefusedAsync(HttpClient client, string path, DateTimeOffset deadline)
    {
        while (true)
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                return;
            }

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(DateTimeOffset.UtcNow < deadline, string.Create(CultureInfo.InvariantCulture,
                $"{client.BaseAddress} still accepted the revoked credential at {DateTimeOffset.UtcNow:T}: the notice did not reach it."));
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }
}
