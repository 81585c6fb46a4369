using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Aggregator.Infrastructure.Persistence.Migrations
{
    /// <summary>
    /// The first page of each category and of the timeline, rendered by the record rebuild with the version it belongs to
    /// (<c>record_first_pages</c>): a first read after a change is one row, not a query over the items. Row-level security
    /// as on every tenant's table; the pages are compressed with LZ4, as the items' JSON is. Records already built get
    /// their pages when they are built again in the new read model format (<see cref="Domain.Records.RecordItem.Model"/> 4),
    /// before the service is ready.
    /// </summary>
    public partial class RecordFirstPages : Migration
    {
        private const string ClosedRule =
            "current_setting('app.all_tenants', true) = 'on' OR tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid";

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "record_first_pages",
                columns: table => new
                {
                    patient_id = table.Column<Guid>(type: "uuid", nullable: false),
                    listing = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    record_version = table.Column<long>(type: "bigint", nullable: false),
                    body = table.Column<byte[]>(type: "bytea", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_record_first_pages", x => new { x.patient_id, x.listing });
                    table.ForeignKey(
                        name: "fk_record_first_pages_patients_patient_id",
                        column: x => x.patient_id,
                        principalTable: "patients",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_record_first_pages_tenant_id",
                table: "record_first_pages",
                column: "tenant_id");

            migrationBuilder.Sql("ALTER TABLE record_first_pages ALTER COLUMN body SET COMPRESSION lz4;");
            migrationBuilder.Sql("ALTER TABLE record_first_pages ENABLE ROW LEVEL SECURITY;");
            migrationBuilder.Sql("ALTER TABLE record_first_pages FORCE ROW LEVEL SECURITY;");
            migrationBuilder.Sql($"CREATE POLICY tenant_isolation ON record_first_pages USING ({ClosedRule}) WITH CHECK ({ClosedRule});");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "record_first_pages");
        }
    }
}
