using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Aggregator.Infrastructure.Persistence.Migrations
{
    /// <summary>
    /// Each sync run records its Hangfire job (queued in the same transaction), and unfinished runs are indexed by
    /// age, so that the stranded-run sweep finds a run no job will run without scanning every run ever made.
    /// </summary>
    public partial class SyncRunJobs : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "job_id",
                table: "sync_runs",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_sync_runs_queued_at",
                table: "sync_runs",
                column: "queued_at",
                filter: "status IN ('Queued', 'Running')");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_sync_runs_queued_at",
                table: "sync_runs");

            migrationBuilder.DropColumn(
                name: "job_id",
                table: "sync_runs");
        }
    }
}
