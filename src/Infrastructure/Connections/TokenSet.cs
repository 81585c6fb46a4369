using System.Text.Json;
using Aggregator.Infrastructure.Secrets;

namespace Aggregator.Infrastructure.Connections;

/// <summary>A connection's tokens. Stored only protected (Data Protection), as one blob.</summary>
/// <param name="IssuedAt">When we received the access token (null in sets stored before we kept it).</param>
public sealed record TokenSet(string AccessToken, string? RefreshToken, string TokenType, DateTimeOffset? ExpiresAt, string? IdToken, DateTimeOffset? IssuedAt = null)
{
    /// <summary>How long before expiry the access token is refreshed: a minute, or half its life when it lives under two.</summary>
    public TimeSpan RefreshAhead(TimeSpan usual) =>
        IssuedAt is { } issued && ExpiresAt is { } expires && expires - issued < 2 * usual
            ? TimeSpan.FromTicks(Math.Max(0, (expires - issued).Ticks / 2))
            : usual;

    /// <summary>Whether the access token is close enough to expiry, at <paramref name="now"/>, to refresh it first.</summary>
    public bool DueForRefresh(DateTimeOffset now, TimeSpan usual) => ExpiresAt is { } expires && expires - now <= RefreshAhead(usual);

    public string Protect(SecretProtector secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        return secrets.Protect(SecretKind.TokenSet, JsonSerializer.Serialize(this));
    }

    public static TokenSet Unprotect(SecretProtector secrets, string protectedValue)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        return JsonSerializer.Deserialize<TokenSet>(secrets.Unprotect(SecretKind.TokenSet, protectedValue))
            ?? throw new InvalidOperationException("A stored token set could not be read.");
    }

    /// <summary>Never prints a token.</summary>
    public override string ToString() => $"TokenSet(expires {ExpiresAt:O}, refresh {(RefreshToken is null ? "no" : "yes")})";
}
