using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Aggregator.Infrastructure.Sync;

/// <summary>
/// PostgreSQL session advisory locks held by a sync run's own connection: one per connection (one
/// sync of a connection at a time, across every Worker) and one of N slots per provider (a
/// provider's concurrency limit). They end with the session, so a killed Worker frees them; a
/// finished run releases them before its connection returns to the pool.
/// </summary>
public static class SyncLocks
{
    private const int ConnectionSpace = 0x5359_4e43; // "SYNC"
    private const int ProviderSpace = 0x5052_4f56;   // "PROV"

    public static Task<bool> TryLockConnectionAsync(NpgsqlConnection session, Guid connectionId, CancellationToken cancellationToken) =>
        TryLockAsync(session, ConnectionSpace, Key(connectionId.ToString()), cancellationToken);

    /// <summary>Waits, up to <paramref name="timeout"/>, for the connection's lock (for a running sync of it to stop).</summary>
    public static async Task<bool> LockConnectionAsync(NpgsqlConnection session, Guid connectionId, TimeSpan timeout, TimeProvider clock, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(clock);
        var deadline = clock.GetUtcNow() + timeout;
        while (!await TryLockConnectionAsync(session, connectionId, cancellationToken))
        {
            if (clock.GetUtcNow() >= deadline)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), clock, cancellationToken);
        }

        return true;
    }

    /// <summary>Takes a free slot of the provider's limit; false when all are taken.</summary>
    public static async Task<bool> TryTakeProviderSlotAsync(NpgsqlConnection session, Guid providerId, int slots, CancellationToken cancellationToken)
    {
        for (var slot = 0; slot < slots; slot++)
        {
            if (await TryLockAsync(session, ProviderSpace, Key($"{providerId}:{slot}"), cancellationToken))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Releases every lock of the session. Needed before the connection goes back to the pool:
    /// a pooled connection keeps its session (and its locks) until it is next used.
    /// </summary>
    public static async Task ReleaseAllAsync(NpgsqlConnection session)
    {
        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", session);
            await command.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            // A broken session holds nothing any more: PostgreSQL released its locks when it ended.
        }
    }

    private static async Task<bool> TryLockAsync(NpgsqlConnection session, int space, int key, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock($1, $2)", session);
        command.Parameters.AddWithValue(space);
        command.Parameters.AddWithValue(key);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static int Key(string value) => BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes(value)), 0);
}
