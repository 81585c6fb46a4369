namespace Aggregator.Domain.Providers;

/// <summary>
/// Our OAuth client at a provider: a platform default (no tenant) or one tenant's override.
/// </summary>
public sealed class ClientRegistration
{
    public Guid Id { get; set; }
    public Guid ProviderId { get; set; }

    /// <summary>Null for the platform default.</summary>
    public Guid? TenantId { get; set; }

    public required string ClientId { get; set; }
    public ClientAuthenticationMethod AuthenticationMethod { get; set; }

    /// <summary>The client secret or private signing key, protected (never stored in clear).</summary>
    public string? SecretProtected { get; set; }

    /// <summary>Key id announced in the JWT header for private_key_jwt.</summary>
    public string? KeyId { get; set; }

    public string? Scopes { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

public enum ClientAuthenticationMethod
{
    None,
    ClientSecretBasic,
    PrivateKeyJwt,
}
