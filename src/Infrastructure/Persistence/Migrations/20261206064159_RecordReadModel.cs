using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Aggregator.Infrastructure.Persistence.Migrations
{
    /// <summary>
    /// The record read model: typed columns for what reads filter and plot on, each item's sources as rows, its FHIR
    /// resource and Provenance, and the supporting resources of the FHIR view. The JSON the reads used to dig into goes.
    /// Every patient's record is then built again in the new form (<c>record_model</c> 0) before the service is ready.
    /// </summary>
    public partial class RecordReadModel : Migration
    {
        private static readonly string[] NewTenantTables = ["record_item_sources", "record_supporting_resources"];

        private const string ClosedRule =
            "current_setting('app.all_tenants', true) = 'on' OR tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid";

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "display",
                table: "record_items");

            migrationBuilder.DropColumn(
                name: "sources",
                table: "record_items");

            migrationBuilder.AddColumn<string[]>(
                name: "codes",
                table: "record_items",
                type: "text[]",
                nullable: false,
                defaultValue: new string[0]);

            migrationBuilder.AddColumn<string>(
                name: "display_text",
                table: "record_items",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "fhir",
                table: "record_items",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "fhir_type",
                table: "record_items",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "interpretation",
                table: "record_items",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "normalized_unit",
                table: "record_items",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<decimal>(
                name: "normalized_value",
                table: "record_items",
                type: "numeric",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "provenance",
                table: "record_items",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "reference_range",
                table: "record_items",
                type: "jsonb",
                nullable: true);

            migrationBuilder.AddColumn<string[]>(
                name: "supporting_refs",
                table: "record_items",
                type: "text[]",
                nullable: false,
                defaultValue: new string[0]);

            migrationBuilder.AddColumn<decimal>(
                name: "value_number",
                table: "record_items",
                type: "numeric",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "value_unit",
                table: "record_items",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "record_model",
                table: "patients",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateTable(
                name: "record_item_sources",
                columns: table => new
                {
                    item_id = table.Column<Guid>(type: "uuid", nullable: false),
                    ordinal = table.Column<int>(type: "integer", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    patient_id = table.Column<Guid>(type: "uuid", nullable: false),
                    connection_id = table.Column<Guid>(type: "uuid", nullable: false),
                    provider = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    resource_type = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    resource_id = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    last_updated = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    shown = table.Column<bool>(type: "boolean", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_record_item_sources", x => new { x.item_id, x.ordinal });
                    table.ForeignKey(
                        name: "fk_record_item_sources_record_items_item_id",
                        column: x => x.item_id,
                        principalTable: "record_items",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "record_supporting_resources",
                columns: table => new
                {
                    patient_id = table.Column<Guid>(type: "uuid", nullable: false),
                    id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    ordinal = table.Column<int>(type: "integer", nullable: false),
                    resource_type = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    fhir = table.Column<string>(type: "text", nullable: false),
                    supporting_refs = table.Column<string[]>(type: "text[]", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_record_supporting_resources", x => new { x.patient_id, x.id });
                    table.ForeignKey(
                        name: "fk_record_supporting_resources_patients_patient_id",
                        column: x => x.patient_id,
                        principalTable: "patients",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_record_items_codes",
                table: "record_items",
                column: "codes")
                .Annotation("Npgsql:IndexMethod", "gin");

            migrationBuilder.CreateIndex(
                name: "ix_record_item_sources_connection_id_item_id",
                table: "record_item_sources",
                columns: new[] { "connection_id", "item_id" });

            migrationBuilder.CreateIndex(
                name: "ix_record_item_sources_patient_id",
                table: "record_item_sources",
                column: "patient_id");

            migrationBuilder.CreateIndex(
                name: "ix_record_item_sources_tenant_id",
                table: "record_item_sources",
                column: "tenant_id");

            migrationBuilder.CreateIndex(
                name: "ix_record_supporting_resources_tenant_id",
                table: "record_supporting_resources",
                column: "tenant_id");
            foreach (var table in NewTenantTables)
            {
                migrationBuilder.Sql($"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;");
                migrationBuilder.Sql($"ALTER TABLE {table} FORCE ROW LEVEL SECURITY;");
                migrationBuilder.Sql($"CREATE POLICY tenant_isolation ON {table} USING ({ClosedRule}) WITH CHECK ({ClosedRule});");
            }
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "record_item_sources");

            migrationBuilder.DropTable(
                name: "record_supporting_resources");

            migrationBuilder.DropIndex(
                name: "ix_record_items_codes",
                table: "record_items");

            migrationBuilder.DropColumn(
                name: "codes",
                table: "record_items");

            migrationBuilder.DropColumn(
                name: "display_text",
                table: "record_items");

            migrationBuilder.DropColumn(
                name: "fhir",
                table: "record_items");

            migrationBuilder.DropColumn(
                name: "fhir_type",
                table: "record_items");

            migrationBuilder.DropColumn(
                name: "interpretation",
                table: "record_items");

            migrationBuilder.DropColumn(
                name: "normalized_unit",
                table: "record_items");

            migrationBuilder.DropColumn(
                name: "normalized_value",
                table: "record_items");

            migrationBuilder.DropColumn(
                name: "provenance",
                table: "record_items");

            migrationBuilder.DropColumn(
                name: "reference_range",
                table: "record_items");

            migrationBuilder.DropColumn(
                name: "supporting_refs",
                table: "record_items");

            migrationBuilder.DropColumn(
                name: "value_number",
                table: "record_items");

            migrationBuilder.DropColumn(
                name: "value_unit",
                table: "record_items");

            migrationBuilder.DropColumn(
                name: "record_model",
                table: "patients");

            migrationBuilder.AddColumn<string>(
                name: "display",
                table: "record_items",
                type: "jsonb",
                nullable: false,
                defaultValue: "[]");

            migrationBuilder.AddColumn<string>(
                name: "sources",
                table: "record_items",
                type: "jsonb",
                nullable: false,
                defaultValue: "[]");

            // The old reads need both: every item is written again at the next rebuild.
            migrationBuilder.Sql("UPDATE record_items SET content_hash = '\\x'::bytea;");
        }
    }
}
