using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Aggregator.Infrastructure.Persistence.Migrations
{
    /// <summary>
    /// The record summary lists each source's sync state, which changes without the record. Replicas cache the summary,
    /// so the database itself announces every change that shows in it, whoever writes it: a connection added, removed,
    /// confirmed, or whose status or sync times moved (<c>{patientId}:sources</c> on the record channel); a provider
    /// renamed or changing FHIR version (<c>*</c>: every cache starts again, as after a missed notice).
    /// </summary>
    public partial class ConnectionSourcesNotice : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE FUNCTION connections_announce_sources() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.patient_id IS NOT NULL
                        AND (TG_OP = 'DELETE' OR NEW.patient_id IS DISTINCT FROM OLD.patient_id) THEN
                        PERFORM pg_notify('aggregator_record_changed', OLD.patient_id::text || ':sources');
                    END IF;
                    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND (
                        NEW.patient_id IS DISTINCT FROM OLD.patient_id
                        OR NEW.status IS DISTINCT FROM OLD.status
                        OR NEW.confirmed_at IS DISTINCT FROM OLD.confirmed_at
                        OR NEW.last_sync_at IS DISTINCT FROM OLD.last_sync_at
                        OR NEW.last_success_at IS DISTINCT FROM OLD.last_success_at)) THEN
                        IF NEW.patient_id IS NOT NULL THEN
                            PERFORM pg_notify('aggregator_record_changed', NEW.patient_id::text || ':sources');
                        END IF;
                    END IF;
                    RETURN NULL;
                END $$;

                CREATE TRIGGER connections_announce_sources AFTER INSERT OR UPDATE OR DELETE ON connections
                    FOR EACH ROW EXECUTE FUNCTION connections_announce_sources();

                CREATE FUNCTION providers_announce_rename() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_notify('aggregator_record_changed', '*');
                    RETURN NULL;
                END $$;

                CREATE TRIGGER providers_announce_rename AFTER UPDATE OF name, fhir_version ON providers
                    FOR EACH ROW WHEN (NEW.name IS DISTINCT FROM OLD.name OR NEW.fhir_version IS DISTINCT FROM OLD.fhir_version)
                    EXECUTE FUNCTION providers_announce_rename();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER providers_announce_rename ON providers;
                DROP FUNCTION providers_announce_rename();
                DROP TRIGGER connections_announce_sources ON connections;
                DROP FUNCTION connections_announce_sources();
                """);
        }
    }
}
