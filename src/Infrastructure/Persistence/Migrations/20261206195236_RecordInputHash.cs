using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Aggregator.Infrastructure.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class RecordInputHash : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<byte[]>(
                name: "record_input_hash",
                table: "patients",
                type: "bytea",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "record_input_hash",
                table: "patients");
        }
    }
}
