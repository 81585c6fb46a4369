using System.Net;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Tenants;
using Aggregator.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Aggregator.IntegrationTests.Tenants;

/// <summary>
/// PostgreSQL row-level security, the second line behind the EF tenant filter: a session sees and writes
/// only the tenant it names, every tenant only when it says it does system work, and nothing when it names
/// none. Checked as the ordinary role every host under test connects as (superusers bypass row-level security).
/// </summary>
public sealed class RowLevelSecurityTests(PostgresServer server) : IAsyncLifetime
{
    private readonly TestDatabase _database = new(server);
    private string _appConnectionString = "";

    public async ValueTask InitializeAsync()
    {
        await _database.InitializeAsync();
        _appConnectionString = PostgresServer.AsApp(_database.ConnectionString);
    }

    public async ValueTask DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task A_session_sees_and_writes_only_the_tenant_it_names_and_nothing_when_it_names_none()
    {
        var (coral, coralPatient) = await TenantWithPatientAsync("Coral Health");
        var (other, _) = await TenantWithPatientAsync("Other Health");

        await using var connection = new NpgsqlConnection(_appConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        var unnamed = await CountPatientsAsync(connection);
        var unnamedInsert = await Assert.ThrowsAsync<PostgresException>(() => InsertPatientAsync(connection, coral));
        await TenantSession.ForTenantAsync(connection, coral, TestContext.Current.CancellationToken);
        var coralOnly = await CountPatientsAsync(connection);
        var smuggled = await Assert.ThrowsAsync<PostgresException>(() => InsertPatientAsync(connection, other));
        await TenantSession.ForSystemAsync(connection, TestContext.Current.CancellationToken);
        var system = await CountPatientsAsync(connection);

        Assert.Equal(0, unnamed); // fails closed: a session that forgot its tenant sees nothing
        Assert.Equal("42501", unnamedInsert.SqlState); // ... and writes nothing
        Assert.Equal(1, coralOnly);
        Assert.Equal("42501", smuggled.SqlState); // new row violates row-level security policy
        Assert.Equal(2, system);
        Assert.NotEqual(Guid.Empty, coralPatient);
    }

    [Fact]
    public async Task The_api_runs_under_row_level_security_and_a_query_past_the_ef_filter_still_sees_one_tenant()
    {
        var (coral, coralPatient) = await TenantWithPatientAsync("Coral Health");
        await TenantWithPatientAsync("Other Health");
        await using var api = new ApiFactory(_database.ConnectionString);

        var (client, _) = await CreateTenantClientAsAdminAsync(coral);
        var read = await api.CreateClient().WithBearer(client).GetAsync(new Uri($"/v1/patients/{coralPatient}/record", UriKind.Relative), TestContext.Current.CancellationToken);
        await using var scope = api.Services.CreateAsyncScope();
        var tenant = scope.ServiceProvider.GetRequiredService<CurrentTenant>();
        var db = scope.ServiceProvider.GetRequiredService<AggregatorDbContext>();
        var noTenant = await db.Patients.IgnoreQueryFilters().CountAsync(TestContext.Current.CancellationToken);
        int everyTenant;
        using (tenant.ActAsSystem())
        {
            everyTenant = await db.Patients.IgnoreQueryFilters().CountAsync(TestContext.Current.CancellationToken);
        }

        tenant.Set(coral);
        var pastTheFilter = await db.Patients.IgnoreQueryFilters().Select(p => p.TenantId).Distinct().ToListAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(0, noTenant);
        Assert.Equal(2, everyTenant);
        Assert.Equal([coral], pastTheFilter);
    }

    [Fact]
    public async Task A_pooled_context_carries_no_tenant_from_one_scope_to_the_next()
    {
        var (coral, _) = await TenantWithPatientAsync("Coral Health");
        await TenantWithPatientAsync("Other Health");
        await using var api = new ApiFactory(_database.ConnectionString);
        _ = api.Server;

        // One scope acts for a tenant and gives its context back to the pool; whatever leases a context next acts for
        // nobody until it says otherwise: the next scope (no tenant yet), or a context taken from the pool directly.
        int first;
        await using (var scope = api.Services.CreateAsyncScope())
        {
            scope.ServiceProvider.GetRequiredService<CurrentTenant>().Set(coral);
            first = await scope.ServiceProvider.GetRequiredService<AggregatorDbContext>().Patients.IgnoreQueryFilters().CountAsync(TestContext.Current.CancellationToken);
        }

        int leased;
        await using (var direct = await api.Services.GetRequiredService<IDbContextFactory<AggregatorDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken))
        {
            leased = await direct.Patients.CountAsync(TestContext.Current.CancellationToken);
        }

        int next;
        await using (var scope = api.Services.CreateAsyncScope())
        {
            next = await scope.ServiceProvider.GetRequiredService<AggregatorDbContext>().Patients.IgnoreQueryFilters().CountAsync(TestContext.Current.CancellationToken);
        }

        Assert.Equal(1, first);
        Assert.Equal(0, next);
        Assert.Equal(0, leased);
    }

    [Fact]
    public async Task The_services_role_owns_nothing_and_cannot_turn_the_policies_off()
    {
        await using var api = new ApiFactory(_database.ConnectionString);
        _ = api.Server; // started: migrated as the owner, the services' role granted its rights

        await using var connection = new NpgsqlConnection(_appConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var role = new NpgsqlCommand(
            """
            SELECT r.rolsuper, r.rolbypassrls,
                   (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid AND c.relnamespace = 'public'::regnamespace)
            FROM pg_roles r WHERE r.rolname = current_user
            """, connection);
        bool superuser, bypass;
        long owned;
        await using (var reader = await role.ExecuteReaderAsync(TestContext.Current.CancellationToken))
        {
            Assert.True(await reader.ReadAsync(TestContext.Current.CancellationToken));
            (superuser, bypass, owned) = (reader.GetBoolean(0), reader.GetBoolean(1), reader.GetInt64(2));
        }

        await using var disable = new NpgsqlCommand("ALTER TABLE patients DISABLE ROW LEVEL SECURITY", connection);
        var refused = await Assert.ThrowsAsync<PostgresException>(() => disable.ExecuteNonQueryAsync(TestContext.Current.CancellationToken));
        await using var history = new NpgsqlCommand($"DELETE FROM {AggregatorDbContext.MigrationsHistoryTable}", connection);
        var historyRefused = await Assert.ThrowsAsync<PostgresException>(() => history.ExecuteNonQueryAsync(TestContext.Current.CancellationToken));

        Assert.False(superuser);
        Assert.False(bypass);
        Assert.Equal(0, owned);
        Assert.Equal("42501", refused.SqlState); // must be owner of table patients
        Assert.Equal("42501", historyRefused.SqlState);
    }

    private async Task<(Guid TenantId, Guid PatientId)> TenantWithPatientAsync(string name)
    {
        await using var api = new ApiFactory(_database.ConnectionString);
        var (client, key) = await api.CreateTenantClientAsync(name, ConnectedPatients.ReturnUrl);
        var patient = (await client.PutPatientAsync("someone")).GetProperty("id").GetGuid();
        return (key.TenantId, patient);
    }

    /// <summary>A key for the tenant, issued as an operator would (outside any tenant's session).</summary>
    private async Task<(string Key, Guid KeyId)> CreateTenantClientAsAdminAsync(Guid tenantId)
    {
        await using var api = new ApiFactory(_database.ConnectionString);
        await using var scope = api.Services.CreateOperatorScope();
        var key = await scope.ServiceProvider.GetRequiredService<TenantAdministration>().CreateKeyAsync(tenantId, "rls", Domain.Tenants.ApiKeyEnvironment.Test, CancellationToken.None);
        return (key.Key, key.KeyId);
    }

    private static async Task<long> CountPatientsAsync(NpgsqlConnection connection)
    {
        await using var count = new NpgsqlCommand("SELECT count(*) FROM patients", connection);
        return (long)(await count.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    private static async Task InsertPatientAsync(NpgsqlConnection connection, Guid tenantId)
    {
        await using var insert = new NpgsqlCommand("INSERT INTO patients (id, tenant_id, external_id, created_at, record_version) VALUES (gen_random_uuid(), @tenant, 'smuggled', now(), 0)", connection);
        insert.Parameters.AddWithValue("tenant", tenantId);
        await insert.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }
}
