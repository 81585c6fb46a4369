using System.Diagnostics;
using Npgsql;

namespace Aggregator.Benchmarks;

/// <summary>
/// The database's ceiling for storing resources: rows already as JSON text, written by a plain binary COPY (one per page)
/// into a scratch table of the same shape as <c>source_resources</c>' key and jsonb, with nothing else.
/// </summary>
internal static class CopyCeiling
{
    /// <summary>Seconds to COPY every page of (connection, type, id, JSON) rows; the scratch table is dropped after.</summary>
    public static async Task<double> SecondsAsync(NpgsqlDataSource dataSource, IReadOnlyList<IReadOnlyList<(Guid ConnectionId, string Type, string Id, string Json)>> pages)
    {
        await using var session = await dataSource.OpenConnectionAsync();
        await using (var create = new NpgsqlCommand(
            "DROP TABLE IF EXISTS bench_copy_ceiling; CREATE TABLE bench_copy_ceiling (connection_id uuid NOT NULL, resource_type text NOT NULL, resource_id text NOT NULL, resource jsonb NOT NULL, PRIMARY KEY (connection_id, resource_type, resource_id))",
            session))
        {
            await create.ExecuteNonQueryAsync();
        }

        var stopwatch = Stopwatch.StartNew();
        foreach (var page in pages)
        {
            await using var writer = await session.BeginBinaryImportAsync("COPY bench_copy_ceiling (connection_id, resource_type, resource_id, resource) FROM STDIN (FORMAT BINARY)");
            foreach (var (connectionId, type, id, json) in page)
            {
                await writer.StartRowAsync();
                await writer.WriteAsync(connectionId, NpgsqlTypes.NpgsqlDbType.Uuid);
                await writer.WriteAsync(type, NpgsqlTypes.NpgsqlDbType.Text);
                await writer.WriteAsync(id, NpgsqlTypes.NpgsqlDbType.Text);
                await writer.WriteAsync(json, NpgsqlTypes.NpgsqlDbType.Jsonb);
            }

            await writer.CompleteAsync();
        }

        var elapsed = stopwatch.Elapsed.TotalSeconds;
        await using var drop = new NpgsqlCommand("DROP TABLE bench_copy_ceiling", session);
        await drop.ExecuteNonQueryAsync();
        return elapsed;
    }
}
