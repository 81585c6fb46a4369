namespace Aggregator.Sandbox.Personas;

/// <summary>A provider played by the sandbox, with the FHIR versions it serves.</summary>
public sealed class Persona(string name, PersonaOptions options, IReadOnlyList<FhirVersion> versions)
{
    public string Name { get; } = name;

    public PersonaOptions Options { get; } = options;

    public IReadOnlyList<FhirVersion> Versions { get; } = versions;

    public bool Serves(FhirVersion version) => Versions.Contains(version);

    /// <summary>The search parameters this persona requires for a resource type.</summary>
    public IReadOnlyList<string> RequiredSearchParameters(string resourceType) =>
        Options.RequiredSearchParameters.TryGetValue(resourceType, out var names) ? names : [];
}

/// <summary>One FHIR base: a persona in one version, at <c>{root}/{persona}/fhir/{version}</c>.</summary>
public readonly record struct FhirBase(Persona Persona, FhirVersion Version)
{
    public string RelativePath => $"/{Persona.Name}/fhir/{Version.PathSegment()}";

    /// <summary>The absolute base URL, without a trailing slash, as seen by the caller.</summary>
    public string Url(HttpRequest request) => Url(SandboxUrls.RequestRoot(request));

    /// <summary>The absolute base URL at <paramref name="root"/> (no trailing slash), without a trailing slash.</summary>
    public string Url(string root) => $"{root}{RelativePath}";
}
