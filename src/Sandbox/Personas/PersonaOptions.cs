namespace Aggregator.Sandbox.Personas;

/// <summary>One provider the sandbox plays; every quirk it has is stated here, not in code.</summary>
public sealed class PersonaOptions
{
    public string DisplayName { get; set; } = "";

    /// <summary>The FHIR versions this persona serves: <c>R4</c>, <c>DSTU2</c>.</summary>
    public List<string> FhirVersions { get; set; } = [];

    /// <summary>Whether patients loaded from <c>Sandbox:DataDir</c> are served here (in each version the persona has).</summary>
    public bool ServesLoadedData { get; set; } = true;

    /// <summary>
    /// A data folder of this persona's own (with <c>r4</c> and <c>dstu2</c> subfolders, or bundles at its top for R4),
    /// served instead of <c>Sandbox:DataDir</c>: for example a second provider built by <c>second-provider</c>.
    /// </summary>
    public string? DataDir { get; set; }

    /// <summary>Prefixed to every loaded resource id, so that each persona has ids of its own.</summary>
    public string IdPrefix { get; set; } = "";

    public int DefaultPageSize { get; set; } = 50;

    public int MaxPageSize { get; set; } = 200;

    /// <summary>Search parameters this persona insists on, per resource type (e.g. Observation: category).</summary>
    public Dictionary<string, List<string>> RequiredSearchParameters { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Endpoints this persona's SMART discovery document names instead of the sandbox's own (keys
    /// <c>authorization_endpoint</c>, <c>token_endpoint</c>, <c>revocation_endpoint</c>, <c>introspection_endpoint</c>):
    /// a provider whose discovery points somewhere a client must refuse to go.
    /// </summary>
    public Dictionary<string, string> DiscoveryOverrides { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The OAuth clients registered at this persona.</summary>
    public List<ClientRegistrationOptions> Clients { get; set; } = [];
}

public sealed class ClientRegistrationOptions
{
    public string ClientId { get; set; } = "";

    public string DisplayName { get; set; } = "";

    /// <summary><c>none</c> (public), <c>client_secret_basic</c> or <c>private_key_jwt</c>.</summary>
    public string Authentication { get; set; } = "none";

    public string? Secret { get; set; }

    /// <summary>The client's JWKS file for <c>private_key_jwt</c>, relative to the application folder.</summary>
    public string? JwksFile { get; set; }

    public List<string> RedirectUris { get; set; } = [];
}
