using Npgsql;
using NpgsqlTypes;

namespace Aggregator.Infrastructure.Sync;

/// <summary>One resource as a sync page delivered it, ready to store.</summary>
public sealed record IncomingResource(
    string ResourceType,
    string ResourceId,
    string? Resource,
    string? Original,
    string? VersionId,
    DateTimeOffset? LastUpdated,
    byte[] ContentHash,
    string? Error,
    bool SetAside);

public readonly record struct BatchResult(int New, int Changed, int Unchanged);

/// <summary>
/// Writes pages of resources for one sync run over the run's own PostgreSQL connection: binary
/// COPY into a temporary staging table, then one INSERT for new rows and one UPDATE for rows whose
/// content hash changed; unchanged rows are not rewritten. Each page commits on its own, so a run
/// that fails keeps everything stored before it failed. It also remembers every key seen, to mark
/// what a full sync no longer found as deleted.
/// </summary>
public sealed class ResourceBatchWriter(NpgsqlConnection connection, Guid tenantId, Guid connectionId, TimeProvider clock)
{
    private bool _prepared;

    public async Task<BatchResult> WriteAsync(IReadOnlyList<IncomingResource> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return default;
        }

        await PrepareAsync(cancellationToken);
        await EnsureStillConnectedAsync(cancellationToken);
        await ExecuteAsync("TRUNCATE sync_staging", cancellationToken);
        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY sync_staging (resource_type, resource_id, resource, original, version_id, last_updated, content_hash, error) FROM STDIN (FORMAT BINARY)",
            cancellationToken))
        {
            foreach (var item in batch)
            {
                await copy.StartRowAsync(cancellationToken);
                await copy.WriteAsync(item.ResourceType, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(item.ResourceId, NpgsqlDbType.Text, cancellationToken);
                await WriteNullableAsync(copy, item.Resource, NpgsqlDbType.Jsonb, cancellationToken);
                await WriteNullableAsync(copy, item.Original, NpgsqlDbType.Jsonb, cancellationToken);
                await WriteNullableAsync(copy, item.VersionId, NpgsqlDbType.Text, cancellationToken);
                if (item.LastUpdated is { } lastUpdated)
                {
                    await copy.WriteAsync(lastUpdated.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
                }
                else
                {
                    await copy.WriteNullAsync(cancellationToken);
                }

                await copy.WriteAsync(item.ContentHash, NpgsqlDbType.Bytea, cancellationToken);
                await WriteNullableAsync(copy, item.Error, NpgsqlDbType.Text, cancellationToken);
            }

            await copy.CompleteAsync(cancellationToken);
        }

        var now = clock.GetUtcNow();
        await ExecuteAsync("INSERT INTO sync_seen SELECT DISTINCT resource_type, resource_id FROM sync_staging ON CONFLICT DO NOTHING", cancellationToken);
        var inserted = await ExecuteAsync(
            """
            INSERT INTO source_resources (tenant_id, connection_id, resource_type, resource_id, resource, original, version_id,
                                          last_updated, content_hash, first_seen_at, last_seen_at, error)
            SELECT DISTINCT ON (resource_type, resource_id) $1, $2, resource_type, resource_id, resource, original, version_id,
                   last_updated, content_hash, $3, $3, error
            FROM sync_staging
            ON CONFLICT (connection_id, resource_type, resource_id) DO NOTHING
            """,
            cancellationToken, tenantId, connectionId, now);
        var changed = await ExecuteAsync(
            """
            UPDATE source_resources t
            SET resource = s.resource, original = s.original, version_id = s.version_id, last_updated = s.last_updated,
                content_hash = s.content_hash, last_seen_at = $2, deleted_at = NULL, error = s.error
            FROM (SELECT DISTINCT ON (resource_type, resource_id) * FROM sync_staging) s
            WHERE t.connection_id = $1 AND t.resource_type = s.resource_type AND t.resource_id = s.resource_id
              AND (t.content_hash <> s.content_hash OR t.deleted_at IS NOT NULL)
            """,
            cancellationToken, connectionId, now);
        return new BatchResult(inserted, changed, batch.Count - inserted - changed);
    }

    /// <summary>Marks as deleted the stored resources of these types that this run did not see. Returns per type how many.</summary>
    public async Task<Dictionary<string, int>> MarkUnseenDeletedAsync(IReadOnlyCollection<string> resourceTypes, CancellationToken cancellationToken)
    {
        var deleted = new Dictionary<string, int>(StringComparer.Ordinal);
        if (resourceTypes.Count == 0)
        {
            return deleted;
        }

        await PrepareAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            UPDATE source_resources t SET deleted_at = $3
            WHERE t.connection_id = $1 AND t.resource_type = ANY($2) AND t.deleted_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM sync_seen s WHERE s.resource_type = t.resource_type AND s.resource_id = t.resource_id)
            RETURNING t.resource_type
            """,
            connection);
        command.Parameters.AddWithValue(connectionId);
        command.Parameters.AddWithValue(resourceTypes.ToArray());
        command.Parameters.AddWithValue(clock.GetUtcNow());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var type = reader.GetString(0);
            deleted[type] = deleted.GetValueOrDefault(type) + 1;
        }

        return deleted;
    }

    /// <summary>
    /// A connection disconnected (or deleted) while it synced stores nothing more: the run stops at its next batch, and
    /// the purge waiting for its lock goes on.
    /// </summary>
    private async Task EnsureStillConnectedAsync(CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT status FROM connections WHERE id = $1", connection);
        command.Parameters.AddWithValue(connectionId);
        if (await command.ExecuteScalarAsync(cancellationToken) is not ("Active" or "PendingConfirmation"))
        {
            throw new SyncFailedException(SyncEngine.Disconnected);
        }
    }

    private async Task PrepareAsync(CancellationToken cancellationToken)
    {
        if (_prepared)
        {
            return;
        }

        await ExecuteAsync(
            """
            CREATE TEMP TABLE IF NOT EXISTS sync_staging (
                resource_type text NOT NULL, resource_id text NOT NULL, resource jsonb, original jsonb, version_id text,
                last_updated timestamptz, content_hash bytea NOT NULL, error text);
            CREATE TEMP TABLE IF NOT EXISTS sync_seen (resource_type text NOT NULL, resource_id text NOT NULL, PRIMARY KEY (resource_type, resource_id));
            TRUNCATE sync_seen;
            """,
            cancellationToken);
        _prepared = true;
    }

    private async Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.AddWithValue(parameter);
        }

        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task WriteNullableAsync(NpgsqlBinaryImporter copy, string? value, NpgsqlDbType type, CancellationToken cancellationToken)
    {
        if (value is null)
        {
            await copy.WriteNullAsync(cancellationToken);
        }
        else
        {
            await copy.WriteAsync(value, type, cancellationToken);
        }
    }
}
