using System.Text.Json;
using Aggregator.Infrastructure.Secrets;

namespace Aggregator.Infrastructure.Connections;

/// <summary>A connection's tokens. Stored only protected (Data Protection), as one blob.</summary>
public sealed record TokenSet(string AccessToken, string? RefreshToken, string TokenType, DateTimeOffset? ExpiresAt, string? IdToken)
{
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
