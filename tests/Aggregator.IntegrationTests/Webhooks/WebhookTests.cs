using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Aggregator.Infrastructure.Tenants;
using Aggregator.Infrastructure.Networking;
using Aggregator.IntegrationTests.Infrastructure;
using Aggregator.Sandbox.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;
using StandardWebhooks;

namespace Aggregator.IntegrationTests.Webhooks;

/// <summary>What a partner's webhook endpoint sees: signed events for finished syncs and lost grants, retried until it answers 2xx.</summary>
public sealed class WebhookTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox, jobServer: true,
    settings: new Dictionary<string, string?> { ["Webhooks:RetryDelays:0"] = "00:00:01", ["Webhooks:RetryDelays:1"] = "00:00:01" })
{
    [Fact]
    public async Task A_finished_sync_is_posted_signed_to_the_tenants_url_and_listed_as_delivered()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var secret = await UseWebhookAsync(receiver.Url);
        var (patientId, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-cerner-r4", Sandbox.Generated("cerner", "R4", 2), "webhook-patient");
        await Tenant.WaitForRunAsync(connectionId);

        // The finished sync, and the record's new version it made. Confirming the binding rebuilds the record too: when
        // the sync has stored some pages by then, an earlier version is announced as well.
        var received = await receiver.WaitForAsync(r => r.Any(w => Type(w) == "sync.finished" && r.Any(u => Type(u) == "record.updated" && Version(u) == Version(w))));
        Assert.All(received, w => Assert.Contains(patientId.ToString(), w.Body, StringComparison.Ordinal));
        var hook = Assert.Single(received, w => Type(w) == "sync.finished");
        var updated = JsonDocument.Parse(Assert.Single(received, w => Type(w) == "record.updated" && Version(w) == Version(hook)).Body).RootElement.GetProperty("data");
        new StandardWebhook(secret).Verify(hook.Body, hook.Headers); // throws when the signature does not match
        // And by hand, as a receiver without that library would: HMAC-SHA256 over "{id}.{timestamp}.{body}" with the secret's bytes.
        var expected = Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(secret["whsec_".Length..]),
            Encoding.UTF8.GetBytes($"{hook.Headers["webhook-id"]}.{hook.Headers["webhook-timestamp"]}.{hook.Body}")));
        Assert.Equal("v1," + expected, hook.Headers["webhook-signature"].ToString());
        var payload = JsonDocument.Parse(hook.Body).RootElement;
        Assert.Equal("sync.finished", payload.GetProperty("type").GetString());
        var data = payload.GetProperty("data");
        Assert.Equal(patientId, data.GetProperty("patientId").GetGuid());
        Assert.Equal("webhook-patient", data.GetProperty("externalId").GetString());
        Assert.Equal("succeeded", data.GetProperty("status").GetString());
        Assert.True(data.GetProperty("recordVersion").GetInt64() > 0);
        Assert.Equal(data.GetProperty("recordVersion").GetInt64(), updated.GetProperty("recordVersion").GetInt64());
        Assert.True(updated.GetProperty("changed").GetInt32() > 0);
        Assert.DoesNotContain("token", hook.Body, StringComparison.OrdinalIgnoreCase);

        var deliveries = await WaitForDeliveryAsync("delivered", hook.Headers["webhook-id"].ToString());
        Assert.Equal(1, deliveries.GetProperty("attempts").GetInt32());

        // Another tenant neither sees the delivery nor can send it again.
        var (other, _) = await Api.CreateTenantClientAsync("Other Health", ConnectedPatients.ReturnUrl);
        Assert.Equal(0, (await other.GetJsonAsync("/v1/webhook-deliveries")).GetProperty("items").GetArrayLength());
        var retry = await other.PostAsync(new Uri($"/v1/webhook-deliveries/{deliveries.GetProperty("id").GetString()}/retry", UriKind.Relative), null, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, retry.StatusCode);
    }

    [Fact]
    public async Task A_failing_endpoint_gets_the_same_event_again_until_it_answers_2xx()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.FailFirst = 2;
        var secret = await UseWebhookAsync(receiver.Url);
        var (_, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-cerner-r4", Sandbox.Generated("cerner", "R4", 2), "retried-patient");
        await Tenant.WaitForRunAsync(connectionId);

        // The finished sync and the record's version it made, each delivered in the end; the endpoint fails the first two
        // requests. Confirming the binding rebuilds the record too, and announces an earlier version when the first sync
        // has stored some pages by then: a third event, retried the same way.
        var received = await receiver.WaitForAsync(r =>
            r.Any(w => w.Answered == 204 && Type(w) == "sync.finished")
            && r.Any(w => w.Answered == 204 && Type(w) == "record.updated" && r.Any(f => Type(f) == "sync.finished" && Version(f) == Version(w)))
            && r.Select(Id).Distinct().All(id => r.Any(w => Id(w) == id && w.Answered == 204)));

        Assert.Equal(2, received.Count(r => r.Answered == 500));
        Assert.All(received, r => new StandardWebhook(secret).Verify(r.Body, r.Headers));
        foreach (var attempts in received.GroupBy(Id))
        {
            // The same event (same id, same body) until it got a 2xx, then never again.
            Assert.Equal(204, attempts.Last().Answered);
            Assert.All(attempts.SkipLast(1), a => Assert.Equal(500, a.Answered));
            Assert.Single(attempts.Select(a => a.Body).Distinct());
            var delivery = await WaitForDeliveryAsync("delivered", attempts.Key);
            Assert.Equal(attempts.Count(), delivery.GetProperty("attempts").GetInt32());
        }
    }

    [Fact]
    public async Task A_lost_grant_is_announced_as_connection_reauth_required()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await UseWebhookAsync(receiver.Url);
        var login = Sandbox.Generated("cerner", "R4", 4);
        var (_, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-cerner-r4", login, "lost-grant");
        await Tenant.WaitForRunAsync(connectionId);
        await Sandbox.Server.InjectFaultAsync(new FaultSpec("cerner", "revoke-grant") { PatientId = login.PatientId });

        await Tenant.SyncNowAsync(connectionId);
        var received = await receiver.WaitForAsync(r =>
            r.Count(w => w.Answered == 204 && Type(w) is "sync.finished" or "connection.reauth_required") == 3
            && r.Any(w => w.Answered == 204 && Type(w) == "record.updated" && r.Any(f => Type(f) == "sync.finished" && Status(f) == "succeeded" && Version(f) == Version(w))));

        // The first sync's success and the record it made, the grant lost during the second, and that second sync's
        // failure (each sent on its own, in any order). Confirming the binding rebuilds the record too, and announces an
        // earlier version when the first sync has stored some pages by then; the failed sync changed nothing, so no
        // record.updated past the first sync's version.
        var events = received.Select(w => JsonDocument.Parse(w.Body).RootElement)
            .Select(e => (Type: e.GetProperty("type").GetString(), Data: e.GetProperty("data"))).ToList();
        var lost = Assert.Single(events, e => e.Type == "connection.reauth_required").Data;
        Assert.Equal(connectionId, lost.GetProperty("connectionId").GetGuid());
        Assert.Equal("lost-grant", lost.GetProperty("externalId").GetString());
        var finished = events.Where(e => e.Type == "sync.finished").ToList();
        Assert.Equal(["failed", "succeeded"], finished.Select(e => e.Data.GetProperty("status").GetString()).Order());
        var version = finished.Single(e => e.Data.GetProperty("status").GetString() == "succeeded").Data.GetProperty("recordVersion").GetInt64();
        Assert.Equal(version, finished.Single(e => e.Data.GetProperty("status").GetString() == "failed").Data.GetProperty("recordVersion").GetInt64());
        Assert.All(events.Where(e => e.Type == "record.updated"), e => Assert.True(e.Data.GetProperty("recordVersion").GetInt64() <= version));
    }

    [Fact]
    public async Task A_plain_http_webhook_url_outside_loopback_is_refused()
    {
        await using var scope = Api.Services.CreateOperatorScope();
        var admin = scope.ServiceProvider.GetRequiredService<TenantAdministration>();

        var refused = await Assert.ThrowsAsync<ArgumentException>(() =>
            admin.UpdateTenantAsync(TenantId, new TenantSettings([ConnectedPatients.ReturnUrl], null, new Uri("http://hooks.example/aggregator")), CancellationToken.None));
        Assert.Contains("https", refused.Message, StringComparison.Ordinal);
        Assert.Null(await admin.WebhookSecretAsync(TenantId, rotate: false, CancellationToken.None));
    }

    [Fact]
    public async Task Deliveries_are_listed_newest_first_page_by_page_and_filtered_by_status()
    {
        await using (var db = Database.CreateContext())
        {
            var now = DateTimeOffset.UtcNow;
            db.WebhookDeliveries.AddRange(Enumerable.Range(0, 5).Select(i => new Domain.Webhooks.WebhookDelivery
            {
                Id = Guid.CreateVersion7(now.AddSeconds(i)),
                TenantId = TenantId,
                EventType = "sync.finished",
                Payload = "{}",
                CreatedAt = now.AddSeconds(i),
                Status = i == 4 ? Domain.Webhooks.WebhookDeliveryStatus.Failed : Domain.Webhooks.WebhookDeliveryStatus.Delivered,
                Attempts = 1,
            }));
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        var first = await Tenant.GetJsonAsync("/v1/webhook-deliveries?limit=2");
        var second = await Tenant.GetJsonAsync("/v1/webhook-deliveries?limit=2&cursor=" + Uri.EscapeDataString(first.GetProperty("nextCursor").GetString()!));
        var third = await Tenant.GetJsonAsync("/v1/webhook-deliveries?limit=2&cursor=" + Uri.EscapeDataString(second.GetProperty("nextCursor").GetString()!));
        var failed = await Tenant.GetJsonAsync("/v1/webhook-deliveries?status=failed");
        var badStatus = await Tenant.GetAsync(new Uri("/v1/webhook-deliveries?status=lost", UriKind.Relative), TestContext.Current.CancellationToken);

        var ids = new[] { first, second, third }.SelectMany(p => p.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetGuid())).ToList();
        Assert.Equal(5, ids.Distinct().Count());
        Assert.Equal(ids.OrderDescending(), ids);
        Assert.Equal(JsonValueKind.Null, third.GetProperty("nextCursor").ValueKind);
        Assert.Equal(ids[0], Assert.Single(failed.GetProperty("items").EnumerateArray()).GetProperty("id").GetGuid());
        Assert.Equal(HttpStatusCode.BadRequest, badStatus.StatusCode);
    }

    [Theory]
    [InlineData("93.184.215.14", true)]
    [InlineData("2606:4700:4700::1111", true)]
    [InlineData("2a00:1450:4001:81a::200e", true)]
    [InlineData("4000::1", false)] // outside IPv6 global unicast (2000::/3)
    [InlineData("::a00:1", false)] // IPv4-compatible (deprecated): embeds 10.0.0.1
    [InlineData("203.0.113.7", false)]
    [InlineData("198.51.100.7", false)]
    [InlineData("192.0.2.7", false)]
    [InlineData("198.18.0.1", false)]
    [InlineData("192.0.0.8", false)]
    [InlineData("240.0.0.1", false)]
    [InlineData("255.255.255.255", false)]
    [InlineData("0.1.2.3", false)]
    [InlineData("2001:db8::1", false)]
    [InlineData("2002:a00:1::1", false)]
    [InlineData("64:ff9b::a00:1", false)]
    [InlineData("2001:0:4136:e378::1", false)]
    [InlineData("100::1", false)]
    [InlineData("ff02::1", false)]
    [InlineData("::", false)]
    [InlineData("10.1.2.3", false)]
    [InlineData("172.20.0.1", false)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("127.0.0.1", false)]
    [InlineData("::1", false)]
    [InlineData("fd00::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    public void Webhooks_dial_public_addresses_only(string address, bool allowed) =>
        Assert.Equal(allowed, PublicAddresses.IsPublic(IPAddress.Parse(address)));

    /// <summary>Points the tenant's webhook at the receiver (as <c>tenants update --webhook-url</c> does); returns the signing secret.</summary>
    private async Task<string> UseWebhookAsync(Uri url)
    {
        await using var scope = Api.Services.CreateOperatorScope();
        var admin = scope.ServiceProvider.GetRequiredService<TenantAdministration>();
        await admin.UpdateTenantAsync(TenantId, new TenantSettings([ConnectedPatients.ReturnUrl], null, url), CancellationToken.None);
        var secret = await admin.WebhookSecretAsync(TenantId, rotate: false, CancellationToken.None);
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        return secret!;
    }

    /// <summary>The delivery (the one with <paramref name="id"/>, or the newest) once it has <paramref name="status"/>.</summary>
    private async Task<JsonElement> WaitForDeliveryAsync(string status, string? id = null)
    {
        for (var i = 0; ; i++)
        {
            var items = (await Tenant.GetJsonAsync("/v1/webhook-deliveries?status=" + status)).GetProperty("items").EnumerateArray()
                .Where(d => id is null || d.GetProperty("id").GetString() == id).ToList();
            if (items.Count > 0 || i == 100)
            {
                return items[0];
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    private static string Id(ReceivedWebhook hook) => hook.Headers["webhook-id"].ToString();

    private static string? Type(ReceivedWebhook hook) => JsonDocument.Parse(hook.Body).RootElement.GetProperty("type").GetString();

    private static string? Status(ReceivedWebhook hook) => JsonDocument.Parse(hook.Body).RootElement.GetProperty("data").GetProperty("status").GetString();

    private static long Version(ReceivedWebhook hook) => JsonDocument.Parse(hook.Body).RootElement.GetProperty("data").GetProperty("recordVersion").GetInt64();
}
