using Npgsql;
using NpgsqlTypes;

namespace Aggregator.Infrastructure.Persistence;

/// <summary>Binary <c>COPY</c> of rows into a table, and column values that may be absent.</summary>
internal static class BinaryCopy
{
    /// <summary>Copies <paramref name="rows"/> into <paramref name="table"/>'s <paramref name="columns"/>, each row's values written by <paramref name="writeRow"/> in that order.</summary>
    public static async Task CopyAsync<T>(
        this NpgsqlConnection connection, string table, string columns, IEnumerable<T> rows, Func<NpgsqlBinaryImporter, T, Task> writeRow, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(writeRow);
        await using var copy = await connection.BeginBinaryImportAsync($"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)", cancellationToken);
        foreach (var row in rows)
        {
            await copy.StartRowAsync(cancellationToken);
            await writeRow(copy, row);
        }

        await copy.CompleteAsync(cancellationToken);
    }

    public static Task WriteOrNullAsync<T>(this NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type, CancellationToken cancellationToken)
        where T : class =>
        value is null ? copy.WriteNullAsync(cancellationToken) : copy.WriteAsync(value, type, cancellationToken);

    public static Task WriteOrNullAsync<T>(this NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type, CancellationToken cancellationToken)
        where T : struct =>
        value is { } present ? copy.WriteAsync(present, type, cancellationToken) : copy.WriteNullAsync(cancellationToken);

    /// <summary>An instant as <c>timestamptz</c> (binary COPY takes UTC only).</summary>
    public static Task WriteOrNullAsync(this NpgsqlBinaryImporter copy, DateTimeOffset? value, CancellationToken cancellationToken) =>
        value is { } present ? copy.WriteAsync(present.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken) : copy.WriteNullAsync(cancellationToken);
}
