using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Aggregator.Infrastructure.Persistence.Migrations
{
    /// <summary>
    /// Connections bound by a confirmed result code (connections that worked before count as confirmed),
    /// patients' event streams with their tickets (row-level security like every tenant-owned table), and the
    /// lower-case search text of record items (filled for existing items from what they show).
    /// </summary>
    public partial class ConnectionBindingAndEvents : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "search_text",
                table: "record_items",
                type: "text",
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<long>(
                name: "event_sequence",
                table: "patients",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "confirmed_at",
                table: "connections",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "refresh_expiry_notice_for",
                table: "connections",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<byte[]>(
                name: "result_code_hash",
                table: "connections",
                type: "bytea",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "result_code_issued_at",
                table: "connections",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "event_stream_tickets",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    patient_id = table.Column<Guid>(type: "uuid", nullable: false),
                    ticket_hash = table.Column<byte[]>(type: "bytea", nullable: false),
                    actor_type = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    actor_id = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    used_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_event_stream_tickets", x => x.id);
                    table.ForeignKey(
                        name: "fk_event_stream_tickets_patients_patient_id",
                        column: x => x.patient_id,
                        principalTable: "patients",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_event_stream_tickets_tenants_tenant_id",
                        column: x => x.tenant_id,
                        principalTable: "tenants",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "patient_events",
                columns: table => new
                {
                    patient_id = table.Column<Guid>(type: "uuid", nullable: false),
                    sequence = table.Column<long>(type: "bigint", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    type = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    data = table.Column<string>(type: "jsonb", nullable: false),
                    occurred_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_patient_events", x => new { x.patient_id, x.sequence });
                    table.ForeignKey(
                        name: "fk_patient_events_patients_patient_id",
                        column: x => x.patient_id,
                        principalTable: "patients",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_connections_result_code_issued_at",
                table: "connections",
                column: "result_code_issued_at",
                filter: "confirmed_at IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_event_stream_tickets_expires_at",
                table: "event_stream_tickets",
                column: "expires_at");

            migrationBuilder.CreateIndex(
                name: "ix_event_stream_tickets_patient_id",
                table: "event_stream_tickets",
                column: "patient_id");

            migrationBuilder.CreateIndex(
                name: "ix_event_stream_tickets_tenant_id",
                table: "event_stream_tickets",
                column: "tenant_id");

            migrationBuilder.CreateIndex(
                name: "ix_event_stream_tickets_ticket_hash",
                table: "event_stream_tickets",
                column: "ticket_hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_patient_events_occurred_at",
                table: "patient_events",
                column: "occurred_at");

            migrationBuilder.CreateIndex(
                name: "ix_patient_events_tenant_id",
                table: "patient_events",
                column: "tenant_id");

            // Every connection that reached the provider's patient before binding existed was bound by its tenant's own flow.
            migrationBuilder.Sql("UPDATE connections SET confirmed_at = created_at WHERE provider_patient_id IS NOT NULL;");
            migrationBuilder.Sql(
                """
                UPDATE record_items SET search_text = lower(concat_ws(' ',
                    display->>'display',
                    (SELECT string_agg(concat_ws(' ', c->>'code', c->>'display'), ' ') FROM jsonb_array_elements(
                        CASE WHEN jsonb_typeof(display->'codes') = 'array' THEN display->'codes' ELSE '[]'::jsonb END) AS c)));
                """);
            const string Rule = "nullif(current_setting('app.tenant_id', true), '') IS NULL OR tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid";
            foreach (var table in new[] { "patient_events", "event_stream_tickets" })
            {
                migrationBuilder.Sql($"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;");
                migrationBuilder.Sql($"ALTER TABLE {table} FORCE ROW LEVEL SECURITY;");
                migrationBuilder.Sql($"CREATE POLICY tenant_isolation ON {table} USING ({Rule}) WITH CHECK ({Rule});");
            }
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "event_stream_tickets");

            migrationBuilder.DropTable(
                name: "patient_events");

            migrationBuilder.DropIndex(
                name: "ix_connections_result_code_issued_at",
                table: "connections");

            migrationBuilder.DropColumn(
                name: "search_text",
                table: "record_items");

            migrationBuilder.DropColumn(
                name: "event_sequence",
                table: "patients");

            migrationBuilder.DropColumn(
                name: "confirmed_at",
                table: "connections");

            migrationBuilder.DropColumn(
                name: "refresh_expiry_notice_for",
                table: "connections");

            migrationBuilder.DropColumn(
                name: "result_code_hash",
                table: "connections");

            migrationBuilder.DropColumn(
                name: "result_code_issued_at",
                table: "connections");
        }
    }
}
