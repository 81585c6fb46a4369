using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Aggregator.Infrastructure.Persistence.Migrations
{
    /// <summary>
    /// Hosted Connect: link sessions (row-level security like every tenant-owned table), the authorize attempts
    /// they start, and the tenant's display name and logo shown on the page.
    /// </summary>
    public partial class HostedConnect : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "display_name",
                table: "tenants",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "logo_url",
                table: "tenants",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "link_session_id",
                table: "auth_requests",
                type: "uuid",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "link_sessions",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    patient_id = table.Column<Guid>(type: "uuid", nullable: false),
                    return_url = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: false),
                    update_connection_id = table.Column<Guid>(type: "uuid", nullable: true),
                    link_token_hash = table.Column<byte[]>(type: "bytea", nullable: false),
                    opened_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    consented_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    connection_ids = table.Column<List<Guid>>(type: "uuid[]", nullable: false),
                    result_code_hash = table.Column<byte[]>(type: "bytea", nullable: true),
                    result_code_issued_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    exchanged_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    reason = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    finished_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_link_sessions", x => x.id);
                    table.ForeignKey(
                        name: "fk_link_sessions_patients_patient_id",
                        column: x => x.patient_id,
                        principalTable: "patients",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_link_sessions_tenants_tenant_id",
                        column: x => x.tenant_id,
                        principalTable: "tenants",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_link_sessions_expires_at",
                table: "link_sessions",
                column: "expires_at",
                filter: "status = 'Active'");

            migrationBuilder.CreateIndex(
                name: "ix_link_sessions_link_token_hash",
                table: "link_sessions",
                column: "link_token_hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_link_sessions_patient_id",
                table: "link_sessions",
                column: "patient_id");

            migrationBuilder.CreateIndex(
                name: "ix_link_sessions_tenant_id",
                table: "link_sessions",
                column: "tenant_id");

            const string Rule = "nullif(current_setting('app.tenant_id', true), '') IS NULL OR tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid";
            migrationBuilder.Sql("ALTER TABLE link_sessions ENABLE ROW LEVEL SECURITY;");
            migrationBuilder.Sql("ALTER TABLE link_sessions FORCE ROW LEVEL SECURITY;");
            migrationBuilder.Sql($"CREATE POLICY tenant_isolation ON link_sessions USING ({Rule}) WITH CHECK ({Rule});");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "link_sessions");

            migrationBuilder.DropColumn(
                name: "display_name",
                table: "tenants");

            migrationBuilder.DropColumn(
                name: "logo_url",
                table: "tenants");

            migrationBuilder.DropColumn(
                name: "link_session_id",
                table: "auth_requests");
        }
    }
}
