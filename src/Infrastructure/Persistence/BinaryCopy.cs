using Npgsql;
using NpgsqlTypes;

namespace Aggregator.Infrastructure.Persistence;

/// <summary>Column values of a binary <c>COPY</c> that may be absent.</summary>
internal static class BinaryCopy
{
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
