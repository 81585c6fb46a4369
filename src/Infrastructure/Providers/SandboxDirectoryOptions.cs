using Aggregator.Domain.Providers;

namespace Aggregator.Infrastructure.Providers;

/// <summary>
/// <c>Sandbox:BaseUrl</c> is the one switch that puts the sandbox's personas into the directory, in
/// any environment. Each persona's client registration is the sandbox's documented one.
/// </summary>
public sealed class SandboxDirectoryOptions
{
    public const string Section = "Sandbox";

    public Uri? BaseUrl { get; set; }

    /// <summary>
    /// Where patients' browsers reach the sandbox when that is not <see cref="BaseUrl"/> (in docker-compose the services
    /// call <c>http://sandbox:8080</c>, the host's browser <c>http://127.0.0.1:8090</c>): the directory then names
    /// <c>{PublicBaseUrl}/oauth/authorize</c> as every persona's authorize endpoint. The sandbox is told the same pair
    /// (its own <c>Sandbox:BaseUrl</c> and <c>Sandbox:PublicBaseUrl</c>) and advertises the same endpoint.
    /// </summary>
    public Uri? PublicBaseUrl { get; set; }

    public List<SandboxPersona> Personas { get; set; } = [];
}

public sealed class SandboxPersona
{
    /// <summary>The path segment of the persona (<c>nextgen</c>, <c>epic</c>, <c>cerner</c>).</summary>
    public string Name { get; set; } = "";

    public string DisplayName { get; set; } = "";
    public string Brand { get; set; } = "";
    public List<FhirVersion> FhirVersions { get; set; } = [FhirVersion.R4];
    public string ClientId { get; set; } = "";
    public ClientAuthenticationMethod AuthenticationMethod { get; set; } = ClientAuthenticationMethod.None;
    public string? ClientSecret { get; set; }

    /// <summary>The persona's sync plan for R4 (its quirks); DSTU2 uses the DSTU2 default.</summary>
    public string? SyncPlan { get; set; }
}
