using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Aggregator.Infrastructure.Persistence.Migrations
{
    /// <summary>
    /// Row-level security on every tenant-owned table: where a connection has set <c>app.tenant_id</c>
    /// (EF does, for every scope with a tenant), it sees and writes only that tenant's rows. Forced, so it
    /// holds for the tables' owner too; PostgreSQL superusers bypass it, so production connects as an
    /// ordinary role.
    /// </summary>
    public partial class RowLevelSecurity : Migration
    {
        private static readonly string[] TenantTables =
        [
            "patients", "connections", "auth_requests", "api_keys", "source_resources", "sync_runs",
            "connection_coverage", "record_items", "audit_events", "webhook_deliveries",
        ];

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            const string Rule = "nullif(current_setting('app.tenant_id', true), '') IS NULL OR tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid";
            foreach (var table in TenantTables)
            {
                migrationBuilder.Sql($"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;");
                migrationBuilder.Sql($"ALTER TABLE {table} FORCE ROW LEVEL SECURITY;");
                migrationBuilder.Sql($"CREATE POLICY tenant_isolation ON {table} USING ({Rule}) WITH CHECK ({Rule});");
            }
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            foreach (var table in TenantTables)
            {
                migrationBuilder.Sql($"DROP POLICY IF EXISTS tenant_isolation ON {table};");
                migrationBuilder.Sql($"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY;");
                migrationBuilder.Sql($"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;");
            }
        }
    }
}
