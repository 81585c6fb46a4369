using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Aggregator.Infrastructure.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class RecordInputHashAndSummary : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<byte[]>(
                name: "record_input_hash",
                table: "patients",
                type: "bytea",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "record_summary",
                table: "patients",
                type: "text",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "record_input_hash",
                table: "patients");

            migrationBuilder.DropColumn(
                name: "record_summary",
                table: "patients");
        }
    }
}
