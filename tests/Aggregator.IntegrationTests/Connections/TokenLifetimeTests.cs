using Aggregator.Infrastructure.Connections;
using Aggregator.Infrastructure.Secrets;
using Aggregator.Infrastructure.Tenants;
using Aggregator.IntegrationTests.Infrastructure;
using Aggregator.Sandbox.Tests.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Aggregator.IntegrationTests.Connections;

/// <summary>A provider whose access tokens live under a minute is not asked for a new one before every request.</summary>
public sealed class TokenLifetimeTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox,
    configureServices: services => services.AddSingleton<TimeProvider>(Clock))
{
    private static readonly FakeTimeProvider Clock = new(DateTimeOffset.UtcNow);

    [Fact]
    public async Task A_token_living_40_seconds_is_refreshed_when_half_its_life_is_left_not_at_once()
    {
        var login = Sandbox.Generated("cerner", "R4", 9);
        var (_, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-cerner-r4", login, "short-tokens");
        // The provider's token, as if it had said expires_in=40 just now.
        var issued = Clock.GetUtcNow();
        var stored = await ReadTokensAsync(connectionId);
        await using (var db = Database.CreateContext())
        {
            var connection = await db.Connections.SingleAsync(c => c.Id == connectionId, TestContext.Current.CancellationToken);
            connection.TokenSetProtected = (stored with { IssuedAt = issued, ExpiresAt = issued.AddSeconds(40) }).Protect(Api.Services.GetRequiredService<SecretProtector>());
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        await Sandbox.Server.ResetRequestCountsAsync("cerner", login.PatientId);

        async Task<string> TokenAsync()
        {
            await using var scope = Api.Services.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<CurrentTenant>().Set(TenantId);
            return await scope.ServiceProvider.GetRequiredService<ConnectionTokens>().GetAccessTokenAsync(connectionId, TestContext.Current.CancellationToken);
        }

        // 40 s left of a 40 s life: used as it is, five times over.
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(stored.AccessToken, await TokenAsync());
        }

        Clock.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(stored.AccessToken, await TokenAsync());
        Assert.Equal(0, (await Sandbox.Server.RequestCountsAsync("cerner", login.PatientId)).RefreshRequests);

        // 15 s left: under half its life, so it is refreshed, once.
        Clock.Advance(TimeSpan.FromSeconds(10));
        var fresh = await TokenAsync();
        Assert.NotEqual(stored.AccessToken, fresh);
        Assert.Equal(fresh, await TokenAsync());
        Assert.Equal(1, (await Sandbox.Server.RequestCountsAsync("cerner", login.PatientId)).RefreshRequests);
    }
}
