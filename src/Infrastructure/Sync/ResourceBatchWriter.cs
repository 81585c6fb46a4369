using Aggregator.Infrastructure.Persistence;
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
/// Writes pages of resources for one sync run over the run's own PostgreSQL connection. What the connection already
/// holds (each resource's key and content hash) is read once per run: a resource served exactly as stored is only
/// noted as seen, and the rest of a page goes by binary COPY into a temporary staging table, then one INSERT for the
/// new and one UPDATE for those whose content changed. Each page commits on its own, so a run that fails keeps
/// everything stored before it failed. The keys seen tell a full sync what the provider no longer has.
/// </summary>
public sealed class ResourceBatchWriter(NpgsqlConnection connection, Guid tenantId, Guid connectionId, TimeProvider clock)
{
    /// <summary>What the connection held when the run began, and what the run has written since: key → content hash.</summary>
    private Dictionary<(string Type, string Id), Stored>? _stored;
    private readonly HashSet<(string Type, string Id)> _seen = [];

    public async Task<BatchResult> WriteAsync(IReadOnlyList<IncomingResource> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            return default;
        }

        var stored = await StoredAsync(cancellationToken);
        await EnsureStillConnectedAsync(cancellationToken);
        // A resource served exactly as stored (same content hash, not marked deleted) is not sent to the database at all:
        // on a re-sync, most of every page.
        var writing = new List<IncomingResource>(batch.Count);
        var known = 0;
        foreach (var item in batch)
        {
            var key = (item.ResourceType, item.ResourceId);
            _seen.Add(key);
            if (stored.TryGetValue(key, out var held))
            {
                if (!held.Deleted && held.ContentHash.AsSpan().SequenceEqual(item.ContentHash))
                {
                    continue;
                }

                known++;
            }

            writing.Add(item);
        }

        if (writing.Count == 0)
        {
            return new BatchResult(0, 0, batch.Count);
        }

        // The page in one transaction (one commit, not one per statement), whose commit does not wait for the disk: a
        // crash can lose only the pages of a run it also ended, which the next run fetches again. Anything committed
        // after it and waited for (the run's outcome, the record's rebuild) makes it durable too: the log is written in order.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync("SET LOCAL synchronous_commit = off; TRUNCATE sync_staging", cancellationToken);
        await connection.CopyAsync("sync_staging", "resource_type, resource_id, resource, original, version_id, last_updated, content_hash, error", writing, async (copy, item) =>
        {
            await copy.WriteAsync(item.ResourceType, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(item.ResourceId, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteOrNullAsync(item.Resource, NpgsqlDbType.Jsonb, cancellationToken);
            await copy.WriteOrNullAsync(item.Original, NpgsqlDbType.Jsonb, cancellationToken);
            await copy.WriteOrNullAsync(item.VersionId, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteOrNullAsync(item.LastUpdated, cancellationToken);
            await copy.WriteAsync(item.ContentHash, NpgsqlDbType.Bytea, cancellationToken);
            await copy.WriteOrNullAsync(item.Error, NpgsqlDbType.Text, cancellationToken);
        }, cancellationToken);

        var now = clock.GetUtcNow();
        var unknown = writing.Count - known;
        var inserted = unknown == 0 ? 0 : await ExecuteAsync(
            """
            INSERT INTO source_resources (tenant_id, connection_id, resource_type, resource_id, resource, original, version_id,
                                          last_updated, content_hash, first_seen_at, last_seen_at, error)
            SELECT DISTINCT ON (resource_type, resource_id) $1, $2, resource_type, resource_id, resource, original, version_id,
                   last_updated, content_hash, $3, $3, error
            FROM sync_staging
            ON CONFLICT (connection_id, resource_type, resource_id) DO NOTHING
            """,
            cancellationToken, tenantId, connectionId, now);
        // Stored ones that changed, and any the run did not know of that turned out to be there after all.
        var changed = known == 0 && inserted == unknown ? 0 : await ExecuteAsync(
            """
            UPDATE source_resources t
            SET resource = s.resource, original = s.original, version_id = s.version_id, last_updated = s.last_updated,
                content_hash = s.content_hash, last_seen_at = $2, deleted_at = NULL, error = s.error
            FROM (SELECT DISTINCT ON (resource_type, resource_id) * FROM sync_staging) s
            WHERE t.connection_id = $1 AND t.resource_type = s.resource_type AND t.resource_id = s.resource_id
              AND (t.content_hash <> s.content_hash OR t.deleted_at IS NOT NULL)
            """,
            cancellationToken, connectionId, now);
        await transaction.CommitAsync(cancellationToken);
        foreach (var item in writing)
        {
            stored[(item.ResourceType, item.ResourceId)] = new Stored(item.ContentHash, Deleted: false);
        }

        return new BatchResult(inserted, changed, batch.Count - inserted - changed);
    }

    /// <summary>
    /// The keys among <paramref name="keys"/> the connection does not hold (or holds marked deleted), from what the run
    /// read as it began and wrote since: the referenced resources and documents still to fetch.
    /// </summary>
    public async Task<List<(string Type, string Id)>> NotHeldAsync(IEnumerable<(string Type, string Id)> keys, CancellationToken cancellationToken)
    {
        var stored = await StoredAsync(cancellationToken);
        return [.. keys.Where(key => !stored.TryGetValue(key, out var held) || held.Deleted)];
    }

    /// <summary>Marks as deleted the stored resources of these types that this run did not see. Returns per type how many.</summary>
    public async Task<Dictionary<string, int>> MarkUnseenDeletedAsync(IReadOnlyCollection<string> resourceTypes, CancellationToken cancellationToken)
    {
        var deleted = new Dictionary<string, int>(StringComparer.Ordinal);
        var stored = await StoredAsync(cancellationToken);
        var types = resourceTypes.ToHashSet(StringComparer.Ordinal);
        var unseen = stored.Where(s => !s.Value.Deleted && types.Contains(s.Key.Type) && !_seen.Contains(s.Key)).Select(s => s.Key).ToList();
        if (unseen.Count == 0)
        {
            return deleted;
        }

        await using var command = new NpgsqlCommand(
            """
            UPDATE source_resources t SET deleted_at = $4
            FROM unnest($2::text[], $3::text[]) AS u (resource_type, resource_id)
            WHERE t.connection_id = $1 AND t.resource_type = u.resource_type AND t.resource_id = u.resource_id AND t.deleted_at IS NULL
            RETURNING t.resource_type, t.resource_id
            """,
            connection);
        command.Parameters.AddWithValue(connectionId);
        command.Parameters.AddWithValue(unseen.Select(k => k.Type).ToArray());
        command.Parameters.AddWithValue(unseen.Select(k => k.Id).ToArray());
        command.Parameters.AddWithValue(clock.GetUtcNow());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var key = (Type: reader.GetString(0), Id: reader.GetString(1));
            deleted[key.Type] = deleted.GetValueOrDefault(key.Type) + 1;
            stored[key] = stored[key] with { Deleted = true };
        }

        return deleted;
    }

    /// <summary>
    /// Lets go of what the run knows of the connection's resources (a hundred bytes or more each, some 15 MB for 50,000),
    /// once the run has written and marked all it will: before the record is rebuilt, which holds the whole record.
    /// </summary>
    public void Release()
    {
        _stored = null;
        _seen.Clear();
        _seen.TrimExcess();
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

    /// <summary>
    /// The connection's resources as the run began (one read, about a hundred bytes each), and the staging table. Only
    /// this run writes the connection's resources while it holds the connection's lock; a purge that deletes them
    /// meanwhile stops the run at its next batch.
    /// </summary>
    private async Task<Dictionary<(string Type, string Id), Stored>> StoredAsync(CancellationToken cancellationToken)
    {
        if (_stored is not null)
        {
            return _stored;
        }

        await ExecuteAsync(
            """
            CREATE TEMP TABLE IF NOT EXISTS sync_staging (
                resource_type text NOT NULL, resource_id text NOT NULL, resource jsonb, original jsonb, version_id text,
                last_updated timestamptz, content_hash bytea NOT NULL, error text)
            """,
            cancellationToken);
        var stored = new Dictionary<(string Type, string Id), Stored>();
        await using (var command = new NpgsqlCommand(
            "SELECT resource_type, resource_id, content_hash, deleted_at IS NOT NULL FROM source_resources WHERE connection_id = $1", connection))
        {
            command.Parameters.AddWithValue(connectionId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                stored[(reader.GetString(0), reader.GetString(1))] = new Stored(reader.GetFieldValue<byte[]>(2), reader.GetBoolean(3));
            }
        }

        return _stored = stored;
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

    private readonly record struct Stored(byte[] ContentHash, bool Deleted);
}
