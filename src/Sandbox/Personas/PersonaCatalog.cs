using Microsoft.Extensions.Options;

namespace Aggregator.Sandbox.Personas;

/// <summary>The personas configured under <c>Sandbox:Personas</c>.</summary>
public sealed class PersonaCatalog
{
    private readonly Dictionary<string, Persona> _personas = new(StringComparer.OrdinalIgnoreCase);
    private readonly SandboxUrls _urls;

    public PersonaCatalog(IOptions<SandboxOptions> options, SandboxUrls urls)
    {
        _urls = urls;
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
    /// Finds the FHIR base an absolute URL names (an <c>aud</c> value), with or without a trailing slash, at the root
    /// the request came to or at a configured one (<see cref="SandboxUrls.Roots"/>). Scheme and host compare without
    /// case, the path exactly.
    /// </summary>
    public bool TryFindBase(string url, HttpRequest request, out FhirBase fhirBase)
    {
        fhirBase = default;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var wanted) || !string.IsNullOrEmpty(wanted.Query) || !string.IsNullOrEmpty(wanted.Fragment))
        {
            return false;
        }

        foreach (var root in _urls.Roots(request))
        {
            foreach (var persona in All)
            {
                foreach (var version in persona.Versions)
                {
                    var candidate = new FhirBase(persona, version);
                    var served = new Uri(candidate.Url(root));
                    if (string.Equals(served.GetLeftPart(UriPartial.Authority), wanted.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase)
                        && string.Equals(served.AbsolutePath.TrimEnd('/'), wanted.AbsolutePath.TrimEnd('/'), StringComparison.Ordinal))
                    {
                        fhirBase = candidate;
                        return true;
                    }
                }
            }
        }

        return false;
    }
}
