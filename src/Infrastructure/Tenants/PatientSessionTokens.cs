using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;

namespace Aggregator.Infrastructure.Tenants;

/// <summary>
/// Who a patient session token speaks for: one patient of one tenant, from when it was issued until it expires (or until
/// the patient's sessions are revoked, or the tenant suspended: see <see cref="CredentialRevocations"/>).
/// </summary>
public sealed record PatientSession(Guid TenantId, Guid PatientId, DateTimeOffset ExpiresAt, DateTimeOffset IssuedAt = default);

/// <summary>
/// Short-lived, signed and encrypted tokens that a partner backend mints for its frontend: they can
/// read one patient and start connections for them, nothing else. Checked in memory (Data
/// Protection, key ring shared through PostgreSQL), so any replica accepts any replica's tokens.
/// </summary>
public sealed class PatientSessionTokens(IDataProtectionProvider provider, TimeProvider clock)
{
    public const string Prefix = "aggs_";
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromMinutes(15);
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(12);

    private readonly ITimeLimitedDataProtector _protector = provider.CreateProtector("Aggregator.PatientSession.v1").ToTimeLimitedDataProtector();

    /// <param name="revokedBefore">
    /// The patient's last revocation: a token minted after it is stamped later than it even when this replica's clock is
    /// behind the database's, so that it is never taken for one of the tokens that revocation ended.
    /// </param>
    public (string Token, DateTimeOffset ExpiresAt) Issue(Guid tenantId, Guid patientId, TimeSpan? lifetime, DateTimeOffset? revokedBefore = null)
    {
        var life = lifetime is { } asked && asked > TimeSpan.Zero ? (asked > MaxLifetime ? MaxLifetime : asked) : DefaultLifetime;
        var now = clock.GetUtcNow();
        if (revokedBefore is { } revoked && revoked >= now)
        {
            now = revoked.AddMilliseconds(1);
        }

        var expiresAt = now + life;
        var payload = JsonSerializer.Serialize(new PatientSession(tenantId, patientId, expiresAt, now));
        return (Prefix + _protector.Protect(payload, expiresAt), expiresAt);
    }

    public PatientSession? Validate(string token)
    {
        if (!token.StartsWith(Prefix, StringComparison.Ordinal) || token.Length > 2000)
        {
            return null;
        }

        try
        {
            var session = JsonSerializer.Deserialize<PatientSession>(_protector.Unprotect(token[Prefix.Length..], out var expiration));
            return session is not null && expiration > clock.GetUtcNow() ? session : null;
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException or JsonException)
        {
            return null;
        }
    }
}
