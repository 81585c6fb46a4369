using Aggregator.Sandbox.Generator;
using Aggregator.Sandbox.Personas;

namespace Aggregator.Sandbox;

/// <summary>The <c>Sandbox</c> configuration section.</summary>
public sealed class SandboxOptions
{
    public const string SectionName = "Sandbox";

    /// <summary>A folder of FHIR bundles laid out like the sample patients: <c>r4/</c> and <c>dstu2/</c>.</summary>
    public string? DataDir { get; set; }

    /// <summary>Enables the <c>/_test</c> API (credentials of every patient). Off by default.</summary>
    public bool TestApi { get; set; }

    /// <summary>
    /// The root other servers call the sandbox at (e.g. <c>http://sandbox:8080</c> inside a container network): its
    /// issuer, and the name of its FHIR bases in tokens. Unset: the root of each request.
    /// </summary>
    public Uri? BaseUrl { get; set; }

    /// <summary>
    /// The root browsers reach the sandbox at, when it differs from <see cref="BaseUrl"/> (e.g.
    /// <c>http://127.0.0.1:8090</c> published from a container): where discovery sends patients to authorize.
    /// Needs <see cref="BaseUrl"/>. Unset: <see cref="BaseUrl"/>, else the root of each request.
    /// </summary>
    public Uri? PublicBaseUrl { get; set; }

    /// <summary>A SQLite file for the OAuth store; in memory when unset.</summary>
    public string? StorePath { get; set; }

    public PagingOptions Paging { get; set; } = new();

    /// <summary>Synthetic people seen at several personas (off unless <c>People</c> is above 0).</summary>
    public GeneratorOptions Generator { get; set; } = new();

    public TokenLifetimeOptions Tokens { get; set; } = new();

    public Dictionary<string, PersonaOptions> Personas { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

public sealed class PagingOptions
{
    /// <summary>How long a <c>next</c> link stays usable.</summary>
    public TimeSpan LinkLifetime { get; set; } = TimeSpan.FromMinutes(10);
}

public sealed class TokenLifetimeOptions
{
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(30);

    public TimeSpan AuthorizationCodeLifetime { get; set; } = TimeSpan.FromMinutes(5);

    public TimeSpan IdentityTokenLifetime { get; set; } = TimeSpan.FromHours(1);
}
