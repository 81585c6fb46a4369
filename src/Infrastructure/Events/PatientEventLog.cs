using System.Text.Json;
using Aggregator.Domain.Connections;
using Aggregator.Domain.Events;
using Aggregator.Infrastructure.Notifications;
using Aggregator.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Infrastructure.Events;

/// <summary>
/// Appends to a patient's event stream. The id comes from the patient's own sequence (a counter on the
/// patient row, taken in the same statement as the insert), so ids are gapless per patient and the same
/// on every Api replica; the NOTIFY that wakes the streams goes out when the caller's transaction commits.
/// Events about a connection whose binding is unconfirmed are never written: it is quarantined.
/// </summary>
public sealed class PatientEventLog(AggregatorDbContext db, TimeProvider clock)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<long?> AppendAsync(Guid patientId, string type, object data, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.Serialize(data, Json);
        var now = clock.GetUtcNow();
        var sequence = await db.Database.SqlQuery<long>(
            $"""
            WITH next AS (
                UPDATE patients SET event_sequence = event_sequence + 1 WHERE id = {patientId}
                RETURNING id, tenant_id, event_sequence)
            INSERT INTO patient_events (patient_id, sequence, tenant_id, type, data, occurred_at)
            SELECT id, event_sequence, tenant_id, {type}, CAST({json} AS jsonb), {now} FROM next
            RETURNING sequence AS "Value"
            """).ToListAsync(cancellationToken);
        if (sequence.Count == 0)
        {
            return null;
        }

        var payload = $"{patientId}:{sequence[0]}";
        await db.Database.ExecuteSqlAsync($"SELECT pg_notify({NotificationChannels.PatientEvent}, {payload})", cancellationToken);
        return sequence[0];
    }

    /// <summary><c>connection.updated</c> with the connection's state as it now is (nothing for an unconfirmed one).</summary>
    public Task ConnectionUpdatedAsync(Connection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return connection.ConfirmedAt is null
            ? Task.CompletedTask
            : AppendAsync(connection.PatientId, PatientEventTypes.ConnectionUpdated, new
            {
                connectionId = connection.Id,
                providerId = connection.ProviderId,
                status = ConnectionStatusNames.Of(connection.Status),
                lastSuccessAt = connection.LastSuccessAt,
                lastError = connection.LastError,
            }, cancellationToken);
    }
}

/// <summary>Statuses as the API spells them (snake_case).</summary>
public static class ConnectionStatusNames
{
    public static string Of(ConnectionStatus status) => status switch
    {
        ConnectionStatus.Pending => "pending",
        ConnectionStatus.PendingConfirmation => "pending_confirmation",
        ConnectionStatus.Active => "active",
        ConnectionStatus.ReauthRequired => "reauth_required",
        ConnectionStatus.Revoked => "revoked",
        _ => "failed",
    };
}
