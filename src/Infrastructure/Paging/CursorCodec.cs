using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;

namespace Aggregator.Infrastructure.Paging;

/// <summary>
/// Opaque, tamper-proof keyset cursors: the position is protected with Data Protection (key ring in
/// PostgreSQL, so any replica reads any replica's cursor) and bound to the listing it came from.
/// </summary>
public sealed class CursorCodec(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("Aggregator.Cursor.v1");

    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    public static int ClampLimit(int? limit) => limit is null or < 1 ? DefaultLimit : Math.Min(limit.Value, MaxLimit);

    public string Encode<T>(string listing, T position) =>
        _protector.CreateProtector(listing).Protect(JsonSerializer.Serialize(position));

    /// <summary>The position, or throws <see cref="InvalidCursorException"/> for a cursor we did not issue for this listing.</summary>
    public T Decode<T>(string listing, string cursor)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(_protector.CreateProtector(listing).Unprotect(cursor))
                ?? throw new InvalidCursorException();
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException or JsonException)
        {
            throw new InvalidCursorException();
        }
    }
}

public sealed class InvalidCursorException() : Exception("The cursor was not issued by this service for this listing.");
