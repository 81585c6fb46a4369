using Microsoft.AspNetCore.DataProtection;

namespace Aggregator.Infrastructure.Secrets;

/// <summary>What a protected value is, so that one kind can never be unprotected as another.</summary>
public enum SecretKind
{
    TokenSet,
    PkceVerifier,
    ClientSecret,
    WebhookSecret,
}

/// <summary>
/// Encrypts secrets at rest with ASP.NET Core Data Protection (key ring in PostgreSQL, shared by
/// every replica). Protected values are opaque strings; the clear values never reach logs or responses.
/// </summary>
public sealed class SecretProtector(IDataProtectionProvider provider)
{
    private readonly IDataProtector _root = provider.CreateProtector("Aggregator.Secrets.v1");

    public string Protect(SecretKind kind, string value) => _root.CreateProtector(kind.ToString()).Protect(value);

    public string Unprotect(SecretKind kind, string protectedValue) => _root.CreateProtector(kind.ToString()).Unprotect(protectedValue);
}
