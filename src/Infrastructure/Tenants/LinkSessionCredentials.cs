using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;

namespace Aggregator.Infrastructure.Tenants;

/// <summary>Who a link-session credential speaks for: one Connect page visit of one tenant's patient.</summary>
public sealed record LinkSessionCredential(Guid TenantId, Guid PatientId, Guid LinkSessionId, DateTimeOffset ExpiresAt);

/// <summary>
/// The credential the hosted Connect page calls the Api with, handed out once in exchange for the url's
/// single-use link token. Signed and encrypted (Data Protection, key ring shared through PostgreSQL), so
/// any replica checks it in memory. It can search the directory and start and follow its own session's
/// connections; it reads no patient data.
/// </summary>
public sealed class LinkSessionCredentials(IDataProtectionProvider provider)
{
    public const string Prefix = "aggls_";

    private readonly ITimeLimitedDataProtector _protector = provider.CreateProtector("Aggregator.LinkSession.v1").ToTimeLimitedDataProtector();

    public string Issue(LinkSessionCredential credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        return Prefix + _protector.Protect(JsonSerializer.Serialize(credential), credential.ExpiresAt);
    }

    public LinkSessionCredential? Validate(string token)
    {
        if (!token.StartsWith(Prefix, StringComparison.Ordinal) || token.Length > 2000)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<LinkSessionCredential>(_protector.Unprotect(token[Prefix.Length..]));
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException or JsonException)
        {
            return null;
        }
    }
}
