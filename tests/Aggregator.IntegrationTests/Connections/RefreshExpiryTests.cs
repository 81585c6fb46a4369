using System.Text.Json;
using Aggregator.Infrastructure.Connections;
using Aggregator.Infrastructure.Tenants;
using Aggregator.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.IntegrationTests.Connections;

/// <summary>A tenant hears once, ahead of time, that a connection's refresh token runs out.</summary>
public sealed class RefreshExpiryTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox,
    // The sandbox's refresh tokens live 30 days: a 31-day notice makes a fresh connection due at once.
    settings: new Dictionary<string, string?> { ["Connect:RefreshExpiringNotice"] = "31.00:00:00" })
{
    [Fact]
    public async Task A_connection_whose_refresh_token_expires_within_the_notice_period_is_announced_once()
    {
        await using (var scope = Api.Services.CreateOperatorScope())
        {
            await scope.ServiceProvider.GetRequiredService<TenantAdministration>()
                .UpdateTenantAsync(TenantId, new TenantSettings([ConnectedPatients.ReturnUrl], null, new Uri("http://127.0.0.1:9/hooks")), CancellationToken.None);
        }

        var (patientId, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-epic-r4", Sandbox.Login("epic", "R4", 7), "expiring-patient");
        var expiresAt = (await Tenant.GetJsonAsync($"/v1/connections/{connectionId}")).GetProperty("refreshTokenExpiresAt").GetDateTimeOffset();
        Assert.InRange(expiresAt, DateTimeOffset.UtcNow.AddDays(29), DateTimeOffset.UtcNow.AddDays(31));

        Assert.Equal(1, await RunAsync());
        Assert.Equal(0, await RunAsync());

        await using var db = Database.CreateContext();
        var delivery = Assert.Single(await db.WebhookDeliveries.Where(d => d.EventType == "connection.refresh_expiring").ToListAsync(TestContext.Current.CancellationToken));
        var data = JsonDocument.Parse(delivery.Payload).RootElement.GetProperty("data");
        Assert.Equal(connectionId, data.GetProperty("connectionId").GetGuid());
        Assert.Equal(patientId, data.GetProperty("patientId").GetGuid());
        Assert.Equal("expiring-patient", data.GetProperty("externalId").GetString());
        Assert.Equal(expiresAt, data.GetProperty("refreshTokenExpiresAt").GetDateTimeOffset());
    }

    private async Task<int> RunAsync()
    {
        await using var scope = Api.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<RefreshExpiryNotices>().RunAsync(TestContext.Current.CancellationToken);
    }
}
