using System.Net;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Tenants;
using Aggregator.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Aggregator.IntegrationTests.Tenants;

/// <summary>
/// PostgreSQL row-level security, the second line behind the EF tenant filter: a connection that has
/// set its tenant sees and writes only that tenant's rows, whatever the query. Checked as an ordinary
/// role (superusers bypass row-level security), which is how production connects.
/// </summary>
public sealed class RowLevelSecurityTests(PostgresServer server) : IAsyncLifetime
{
    private const string Role = "aggregator_app_test";
    private const string RolePassword = "app-test-password";
    private readonly TestDatabase _database = new(server);
    private string _appConnectionString = "";

    public async ValueTask InitializeAsync()
    {
        await _database.InitializeAsync();
        await using var admin = new NpgsqlConnection(_database.ConnectionString);
        await admin.OpenAsync();
        await using (var role = new NpgsqlCommand($"""
            DO $$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{Role}') THEN
                CREATE ROLE {Role} LOGIN NOSUPERUSER PASSWORD '{RolePassword}';
              END IF;
            END $$;
            GRANT USAGE ON SCHEMA public, hangfire TO {Role};
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public, hangfire TO {Role};
            GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public, hangfire TO {Role};
            """, admin))
        {
            await role.ExecuteNonQueryAsync();
        }

        _appConnectionString = new NpgsqlConnectionStringBuilder(_database.ConnectionString) { Username = Role, Password = RolePassword }.ConnectionString;
    }

    public async ValueTask DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task A_connection_that_set_its_tenant_sees_and_writes_only_that_tenants_rows()
    {
        var (coral, coralPatient) = await TenantWithPatientAsync("Coral Health");
        var (other, _) = await TenantWithPatientAsync("Other Health");

        await using var connection = new NpgsqlConnection(_appConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        var everyone = await CountPatientsAsync(connection);
        await SetTenantAsync(connection, coral);
        var coralOnly = await CountPatientsAsync(connection);
        await using var smuggle = new NpgsqlCommand("INSERT INTO patients (id, tenant_id, external_id, created_at, record_version) VALUES (gen_random_uuid(), @other, 'smuggled', now(), 0)", connection);
        smuggle.Parameters.AddWithValue("other", other);
        var refused = await Assert.ThrowsAsync<PostgresException>(() => smuggle.ExecuteNonQueryAsync(TestContext.Current.CancellationToken));

        Assert.Equal(2, everyone); // no tenant set: system work sees all
        Assert.Equal(1, coralOnly);
        Assert.Equal("42501", refused.SqlState); // new row violates row-level security policy
        Assert.NotEqual(Guid.Empty, coralPatient);
    }

    [Fact]
    public async Task The_api_runs_under_row_level_security_and_a_query_past_the_ef_filter_still_sees_one_tenant()
    {
        var (coral, coralPatient) = await TenantWithPatientAsync("Coral Health");
        await TenantWithPatientAsync("Other Health");
        await using var api = new ApiFactory(_appConnectionString, new Dictionary<string, string?> { ["Database:MigrateOnStartup"] = "false" });

        var (client, _) = await CreateTenantClientAsAdminAsync(coral);
        var read = await api.CreateClient().WithBearer(client).GetAsync(new Uri($"/v1/patients/{coralPatient}/record", UriKind.Relative), TestContext.Current.CancellationToken);
        await using var scope = api.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().Set(coral);
        var db = scope.ServiceProvider.GetRequiredService<AggregatorDbContext>();
        var pastTheFilter = await db.Patients.IgnoreQueryFilters().Select(p => p.TenantId).Distinct().ToListAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal([coral], pastTheFilter);
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
        await using var scope = api.Services.CreateAsyncScope();
        var key = await scope.ServiceProvider.GetRequiredService<TenantAdministration>().CreateKeyAsync(tenantId, "rls", Domain.Tenants.ApiKeyEnvironment.Test, CancellationToken.None);
        return (key.Key, key.KeyId);
    }

    private static async Task<long> CountPatientsAsync(NpgsqlConnection connection)
    {
        await using var count = new NpgsqlCommand("SELECT count(*) FROM patients", connection);
        return (long)(await count.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    private static async Task SetTenantAsync(NpgsqlConnection connection, Guid tenantId)
    {
        await using var set = new NpgsqlCommand("SELECT set_config('app.tenant_id', @tenant, false)", connection);
        set.Parameters.AddWithValue("tenant", tenantId.ToString());
        await set.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }
}
