using Microsoft.Extensions.Options;

namespace Aggregator.Sandbox.Personas;

/// <summary>The personas configured under <c>Sandbox:Personas</c>.</summary>
public sealed class PersonaCatalog
{
    private readonly Dictionary<string, Persona> _personas = new(StringComparer.OrdinalIgnoreCase);

    public PersonaCatalog(IOptions<SandboxOptions> options)
    {
        foreach (var (name, persona) in options.Value.Personas)
        {
            var versions = new List<FhirVersion>();
            foreach (var value in persona.FhirVersions)
            {
                if (!FhirVersions.TryParse(value, out var version))
                {
                    throw new InvalidOperationException($"Persona '{name}' names an unknown FHIR version '{value}'.");
                }

                if (!versions.Contains(version))
                {
                    versions.Add(version);
                }
            }

            _personas[name] = new Persona(name.ToLowerInvariant(), persona, versions);
        }
    }

    public IEnumerable<Persona> All => _personas.Values.OrderBy(p => p.Name, StringComparer.Ordinal);

    public bool TryGet(string name, out Persona persona) => _personas.TryGetValue(name, out persona!);

    /// <summary>Resolves the route values <c>{persona}/fhir/{version}</c>.</summary>
    public bool TryGetBase(string personaName, string versionSegment, out FhirBase fhirBase)
    {
        fhirBase = default;
        if (!_personas.TryGetValue(personaName, out var persona))
        {
            return false;
        }

        var version = versionSegment.ToUpperInvariant() switch
        {
            "R4" => FhirVersion.R4,
            "DSTU2" => FhirVersion.Dstu2,
            _ => (FhirVersion?)null,
        };

        if (version is null || !persona.Serves(version.Value))
        {
            return false;
        }

        fhirBase = new FhirBase(persona, version.Value);
        return true;
    }

    /// <summary>
    /// Finds the FHIR base an absolute URL names (an <c>aud</c> value), with or without a trailing slash.
    /// </summary>
    public bool TryFindBase(string url, HttpRequest request, out FhirBase fhirBase)
    {
        var wanted = url.TrimEnd('/');
        foreach (var persona in All)
        {
            foreach (var version in persona.Versions)
            {
                var candidate = new FhirBase(persona, version);
                if (string.Equals(candidate.Url(request), wanted, StringComparison.OrdinalIgnoreCase))
                {
                    fhirBase = candidate;
                    return true;
                }
            }
        }

        fhirBase = default;
        return false;
    }
}
