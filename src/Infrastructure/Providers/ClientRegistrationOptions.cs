using Aggregator.Domain.Providers;

namespace Aggregator.Infrastructure.Providers;

/// <summary>
/// Platform-default OAuth clients per provider slug (<c>Providers:Clients:{slug}</c>), set per
/// deployment from secret configuration, never committed.
/// </summary>
public sealed class ClientRegistrationOptions
{
    public const string Section = "Providers:Clients";

    public string ClientId { get; set; } = "";
    public ClientAuthenticationMethod AuthenticationMethod { get; set; } = ClientAuthenticationMethod.None;

    /// <summary>The client secret (client_secret_basic) or the PEM private key (private_key_jwt).</summary>
    public string? Secret { get; set; }

    public string? KeyId { get; set; }
    public string? Scopes { get; set; }
}
