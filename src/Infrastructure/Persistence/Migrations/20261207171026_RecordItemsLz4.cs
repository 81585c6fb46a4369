using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Aggregator.Infrastructure.Persistence.Migrations
{
    /// <summary>
    /// The record items' pre-rendered JSON (REST item, FHIR resource, Provenance) compressed with LZ4 rather than pglz:
    /// every page read decompresses them. Values written from now on use it; values already stored stay readable as they
    /// are and take LZ4 when their item is next rewritten.
    /// </summary>
    public partial class RecordItemsLz4 : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                ALTER TABLE record_items
                    ALTER COLUMN compact SET COMPRESSION lz4,
                    ALTER COLUMN fhir SET COMPRESSION lz4,
                    ALTER COLUMN provenance SET COMPRESSION lz4;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                ALTER TABLE record_items
                    ALTER COLUMN compact SET COMPRESSION DEFAULT,
                    ALTER COLUMN fhir SET COMPRESSION DEFAULT,
                    ALTER COLUMN provenance SET COMPRESSION DEFAULT;
                """);
        }
    }
}
