using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Aggregator.Infrastructure.Persistence.Migrations
{
    /// <summary>
    /// Row-level security fails closed: a session sees a tenant's rows only when it names that tenant
    /// (<c>app.tenant_id</c>) or says it does system work (<c>app.all_tenants = on</c>). Before, a session that
    /// set nothing saw every tenant, so a forgotten tenant was a leak rather than an empty answer.
    /// </summary>
    public partial class RowLevelSecurityFailsClosed : Migration
    {
        private static readonly string[] TenantTables =
        [
            "patients", "connections", "auth_requests", "api_keys", "source_resources", "sync_runs",
            "connection_coverage", "record_items", "audit_events", "webhook_deliveries", "patient_events",
            "event_stream_tickets", "link_sessions",
        ];

        private const string ClosedRule =
            "current_setting('app.all_tenants', true) = 'on' OR tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid";

        private const string OpenRule =
            "nullif(current_setting('app.tenant_id', true), '') IS NULL OR tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid";

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            foreach (var table in TenantTables)
            {
                migrationBuilder.Sql($"DROP POLICY IF EXISTS tenant_isolation ON {table};");
                migrationBuilder.Sql($"CREATE POLICY tenant_isolation ON {table} USING ({ClosedRule}) WITH CHECK ({ClosedRule});");
            }
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            foreach (var table in TenantTables)
            {
                migrationBuilder.Sql($"DROP POLICY IF EXISTS tenant_isolation ON {table};");
                migrationBuilder.Sql($"CREATE POLICY tenant_isolation ON {table} USING ({OpenRule}) WITH CHECK ({OpenRule});");
            }
        }
    }
}
