using System.Security.Cryptography;
using System.Text;
using Aggregator.Domain.Tenants;
using Microsoft.AspNetCore.WebUtilities;

namespace Aggregator.Infrastructure.Tenants;

/// <summary>
/// The shape of an API key: <c>agg_test_</c> or <c>agg_live_</c> then 32 random bytes (base64url).
/// Only its SHA-256 hash is stored, with the visible prefix for people to tell keys apart.
/// </summary>
public static class ApiKeySecrets
{
    public const string Scheme = "agg_";
    private const int PrefixSecretChars = 8;

    public static (string Key, string Prefix, byte[] Hash) Generate(ApiKeyEnvironment environment)
    {
        var label = environment == ApiKeyEnvironment.Live ? "agg_live_" : "agg_test_";
        var key = label + WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        return (key, key[..(label.Length + PrefixSecretChars)], Hash(key));
    }

    public static bool LooksLikeKey(string candidate) =>
        candidate.StartsWith("agg_test_", StringComparison.Ordinal) || candidate.StartsWith("agg_live_", StringComparison.Ordinal);

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
