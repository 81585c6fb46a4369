using System.Net;
using Aggregator.Domain.Connections;
using Aggregator.Domain.Patients;
using Aggregator.Domain.Sync;
using Aggregator.Domain.Tenants;
using Aggregator.Infrastructure.Connections;
using Aggregator.Infrastructure.Sync;
using Aggregator.Infrastructure.Tenants;
using Aggregator.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Aggregator.IntegrationTests.Sync;

/// <summary>Scheduling and concurrency: the dispatcher, the per-connection lock, refresh under the lock.</summary>
public sealed class SyncControlTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox)
{
    [Fact]
    public async Task The_dispatcher_queues_one_run_per_due_connection_and_moves_it_forward_by_the_interval_with_jitter()
    {
        var (due, notDue) = await SeedConnectionsAsync(dueCount: 3, notDueCount: 2);

        var dispatched = await DispatchAsync();
        var again = await DispatchAsync();

        Assert.Equal(3, dispatched);
        Assert.Equal(0, again);
        await using var db = Database.CreateContext();
        var runs = await db.SyncRuns.Where(r => r.Trigger == SyncTrigger.Scheduled).ToListAsync(TestContext.Current.CancellationToken);
        Assert.Equal(due.Order(), runs.Select(r => r.ConnectionId).Order());
        Assert.All(runs, r => Assert.Equal(SyncRunStatus.Queued, r.Status));
        var now = DateTimeOffset.UtcNow;
        foreach (var connection in await db.Connections.Where(c => due.Contains(c.Id)).ToListAsync(TestContext.Current.CancellationToken))
        {
            Assert.InRange(connection.NextSyncAt!.Value, now + TimeSpan.FromHours(12 * 0.9) - TimeSpan.FromMinutes(1), now + TimeSpan.FromHours(12 * 1.1));
        }

        Assert.DoesNotContain(runs, r => notDue.Contains(r.ConnectionId));
    }

    [Fact]
    public async Task Two_dispatchers_at_once_never_claim_the_same_connection()
    {
        var (due, _) = await SeedConnectionsAsync(dueCount: 12, notDueCount: 0);

        var counts = await Task.WhenAll(DispatchAsync(), DispatchAsync(), DispatchAsync());

        Assert.Equal(12, counts.Sum());
        await using var db = Database.CreateContext();
        var runs = await db.SyncRuns.Where(r => r.Trigger == SyncTrigger.Scheduled).Select(r => r.ConnectionId).ToListAsync(TestContext.Current.CancellationToken);
        Assert.Equal(due.Order(), runs.Order());
    }

    [Fact]
    public async Task A_run_waits_while_another_run_of_the_same_connection_holds_its_lock()
    {
        var (due, _) = await SeedConnectionsAsync(dueCount: 1, notDueCount: 0);
        await DispatchAsync();
        await using var db = Database.CreateContext();
        var run = await db.SyncRuns.SingleAsync(r => r.ConnectionId == due[0], TestContext.Current.CancellationToken);
        await using var other = new NpgsqlConnection(Database.ConnectionString);
        await other.OpenAsync(TestContext.Current.CancellationToken);
        Assert.True(await SyncLocks.TryLockConnectionAsync(other, due[0], TestContext.Current.CancellationToken));

        SyncStart start;
        await using (var scope = Api.Services.CreateAsyncScope())
        {
            start = await scope.ServiceProvider.GetRequiredService<SyncEngine>().RunAsync(run.Id, TestContext.Current.CancellationToken);
        }

        Assert.Equal(SyncStart.ConnectionBusy, start);
        await using var check = Database.CreateContext();
        Assert.Equal(SyncRunStatus.Queued, (await check.SyncRuns.SingleAsync(r => r.Id == run.Id, TestContext.Current.CancellationToken)).Status);
    }

    [Fact]
    public async Task A_run_waits_while_its_provider_is_at_its_concurrency_limit_across_workers()
    {
        var (due, _) = await SeedConnectionsAsync(dueCount: 1, notDueCount: 0);
        await DispatchAsync();
        await using var db = Database.CreateContext();
        var run = await db.SyncRuns.SingleAsync(r => r.ConnectionId == due[0], TestContext.Current.CancellationToken);
        var providerId = (await db.Connections.SingleAsync(c => c.Id == due[0], TestContext.Current.CancellationToken)).ProviderId;
        // Other Workers' syncs of the same provider hold every slot (the default limit is 4).
        var others = new List<NpgsqlConnection>();
        for (var i = 0; i < 4; i++)
        {
            var other = new NpgsqlConnection(Database.ConnectionString);
            await other.OpenAsync(TestContext.Current.CancellationToken);
            Assert.True(await SyncLocks.TryTakeProviderSlotAsync(other, providerId, 4, TestContext.Current.CancellationToken));
            others.Add(other);
        }

        SyncStart start;
        await using (var scope = Api.Services.CreateAsyncScope())
        {
            start = await scope.ServiceProvider.GetRequiredService<SyncEngine>().RunAsync(run.Id, TestContext.Current.CancellationToken);
        }

        foreach (var other in others)
        {
            await SyncLocks.ReleaseAllAsync(other);
            await other.DisposeAsync();
        }

        Assert.Equal(SyncStart.ProviderBusy, start);
    }

    [Fact]
    public async Task Two_workers_refreshing_one_connection_at_once_spend_its_refresh_token_once()
    {
        var login = Sandbox.Login("nextgen", "R4", 7);
        var (_, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-nextgen-r4", login);
        string stale;
        await using (var scope = Api.Services.CreateAsyncScope())
        {
            scope.ServiceProvider.GetRequiredService<CurrentTenant>().Set(TenantId);
            stale = await scope.ServiceProvider.GetRequiredService<ConnectionTokens>().GetAccessTokenAsync(connectionId, TestContext.Current.CancellationToken);
        }

        // The sandbox rotates refresh tokens and revokes the grant when a used one comes back: a second refresh would end this connection.
        var refreshed = await Task.WhenAll(Enumerable.Range(0, 2).Select(async _ =>
        {
            await using var scope = Api.Services.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<CurrentTenant>().Set(TenantId);
            return await scope.ServiceProvider.GetRequiredService<ConnectionTokens>().RefreshAsync(connectionId, stale, TestContext.Current.CancellationToken);
        }));

        Assert.Equal(refreshed[0].AccessToken, refreshed[1].AccessToken);
        Assert.NotEqual(stale, refreshed[0].AccessToken);
        var connection = await Tenant.GetJsonAsync($"/v1/connections/{connectionId}");
        Assert.Equal("active", connection.GetProperty("status").GetString());
        using var fhir = Sandbox.CreateClient();
        using var read = new HttpRequestMessage(HttpMethod.Get, new Uri(Sandbox.Root, $"nextgen/fhir/r4/Patient/{login.PatientId}"));
        read.Headers.Authorization = new("Bearer", refreshed[0].AccessToken);
        Assert.Equal(HttpStatusCode.OK, (await fhir.SendAsync(read, TestContext.Current.CancellationToken)).StatusCode);
    }

    private async Task<int> DispatchAsync()
    {
        await using var scope = Api.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<SyncDispatcher>().DispatchAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Active connections straight in the database (the dispatcher needs no tokens): some due, some not.</summary>
    private async Task<(List<Guid> Due, List<Guid> NotDue)> SeedConnectionsAsync(int dueCount, int notDueCount)
    {
        var now = DateTimeOffset.UtcNow;
        var tenant = new Tenant { Id = Guid.NewGuid(), Name = "Dispatch Co", SyncInterval = TimeSpan.FromHours(12), CreatedAt = now };
        await using var db = Database.CreateContext();
        var provider = await db.Providers.FirstAsync(p => p.Slug == "sandbox-epic-r4", TestContext.Current.CancellationToken);
        db.Tenants.Add(tenant);
        var due = new List<Guid>();
        var notDue = new List<Guid>();
        for (var i = 0; i < dueCount + notDueCount; i++)
        {
            var patient = new Patient { Id = Guid.NewGuid(), TenantId = tenant.Id, ExternalId = $"d-{i}", CreatedAt = now };
            var connection = new Connection
            {
                Id = Guid.NewGuid(), TenantId = tenant.Id, PatientId = patient.Id, ProviderId = provider.Id, Status = ConnectionStatus.Active,
                NextSyncAt = i < dueCount ? now.AddMinutes(-5 - i) : now.AddHours(1), CreatedAt = now, UpdatedAt = now,
            };
            db.AddRange(patient, connection);
            (i < dueCount ? due : notDue).Add(connection.Id);
        }

        await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        return (due, notDue);
    }
}
