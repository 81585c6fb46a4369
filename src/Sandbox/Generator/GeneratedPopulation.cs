using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Aggregator.Sandbox.Personas;

namespace Aggregator.Sandbox.Generator;

/// <summary>One resource stating a fact: where it is served and under which id.</summary>
public sealed record OverlapResource(string Persona, string FhirVersion, string ResourceType, string ResourceId);

/// <summary>
/// One fact of a generated person and every resource (across personas and versions) that states it.
/// <c>kind</c>: <c>shared</c> (held by more than one persona), <c>single</c> (one persona, in each of its versions)
/// or <c>near-miss</c> (resembles <see cref="NearMissOf"/> but is another fact).
/// </summary>
public sealed record OverlapFact(
    string FactId,
    string Category,
    string Kind,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? NearMissOf,
    IReadOnlyList<OverlapResource> Resources);

/// <summary>The ground truth for one generated person: which resources are the same fact.</summary>
public sealed record PersonOverlap(string PersonId, IReadOnlyList<OverlapFact> Facts);

/// <summary>A generated person's patient record at one persona and version.</summary>
public sealed record GeneratedPatient(string PersonId, JsonObject Patient);

/// <summary>Everything the generator made: resources per persona and version, the patients, the overlap ground truth.</summary>
public sealed class GeneratedPopulation
{
    private readonly Dictionary<(string Persona, FhirVersion Version), List<JsonObject>> _resources = [];
    private readonly Dictionary<(string Persona, FhirVersion Version), List<GeneratedPatient>> _patients = [];

    public static GeneratedPopulation Empty { get; } = new([], []);

    internal GeneratedPopulation(IReadOnlyList<GeneratedPerson> people, IReadOnlyList<PersonOverlap> overlap)
    {
        People = people;
        Overlap = overlap;
    }

    public IReadOnlyList<GeneratedPerson> People { get; }

    public IReadOnlyList<PersonOverlap> Overlap { get; }

    public int ResourceCount => _resources.Values.Sum(r => r.Count);

    /// <summary>Every generated resource one base serves, clinical and shared (Patient, Organization, Practitioner, Binary).</summary>
    public IReadOnlyList<JsonObject> Resources(string persona, FhirVersion version) =>
        _resources.TryGetValue((persona, version), out var list) ? list : [];

    public IReadOnlyList<GeneratedPatient> Patients(string persona, FhirVersion version) =>
        _patients.TryGetValue((persona, version), out var list) ? list : [];

    internal void Add(string persona, FhirVersion version, JsonObject resource)
    {
        if (!_resources.TryGetValue((persona, version), out var list))
        {
            _resources[(persona, version)] = list = [];
        }

        list.Add(resource);
    }

    internal void AddPatient(string persona, FhirVersion version, GeneratedPatient patient)
    {
        if (!_patients.TryGetValue((persona, version), out var list))
        {
            _patients[(persona, version)] = list = [];
        }

        list.Add(patient);
    }
}

/// <summary>
/// Makes the configured number of people (<c>Sandbox:Generator</c>) and renders each at the personas that play their
/// care sites, in every FHIR version the persona serves: R4 by <see cref="R4Renderer"/>, DSTU2 by
/// <see cref="Dstu2Renderer"/>, both from the same facts.
/// </summary>
public sealed class PeopleGenerator(PersonaCatalog personas)
{
    public GeneratedPopulation Generate(int seed, int count, double exchangedShare = 0, int homeReadings = 0)
    {
        var people = Enumerable.Range(1, Math.Max(0, count))
            .Select(n => HealthInformationExchange.Share(PersonGenerator.Create(seed, n, n == 1 ? homeReadings : 0), seed, exchangedShare))
            .ToList();
        var sites = CareSites.All
            .Select(site => (Site: site, Persona: personas.TryGet(site.Persona, out var persona) ? persona : null))
            .Where(s => s.Persona is not null)
            .Select(s => (s.Site, Persona: s.Persona!))
            .ToList();

        var overlaps = new List<PersonOverlap>();
        var resourcesByFact = new Dictionary<string, List<OverlapResource>>(StringComparer.Ordinal);
        var population = new GeneratedPopulation(people, overlaps);
        if (people.Count == 0)
        {
            return population;
        }

        foreach (var (site, persona) in sites)
        {
            foreach (var version in persona.Versions)
            {
                population.Add(persona.Name, version, Organization(version, site, persona.Options.IdPrefix));
                population.Add(persona.Name, version, Practitioner(version, site, persona.Options.IdPrefix));
            }
        }

        foreach (var person in people)
        {
            foreach (var (site, persona) in sites)
            {
                var at = new SiteRendering(person, site, persona.Options.IdPrefix);
                foreach (var version in persona.Versions)
                {
                    var patient = version == FhirVersion.R4 ? R4Renderer.Patient(at) : Dstu2Renderer.Patient(at);
                    population.Add(persona.Name, version, patient);
                    population.AddPatient(persona.Name, version, new GeneratedPatient(person.PersonId, patient));
                    foreach (var fact in person.Facts.Where(f => f.HeldAt(site.Site)))
                    {
                        var rendered = version == FhirVersion.R4 ? R4Renderer.Render(fact, at) : Dstu2Renderer.Render(fact, at);
                        foreach (var resource in rendered)
                        {
                            population.Add(persona.Name, version, resource);
                            var type = (string)resource["resourceType"]!;
                            if (type == "Binary")
                            {
                                continue;
                            }

                            if (!resourcesByFact.TryGetValue(fact.FactId, out var list))
                            {
                                resourcesByFact[fact.FactId] = list = [];
                            }

                            list.Add(new OverlapResource(persona.Name, version.DisplayName(), type, (string)resource["id"]!));
                        }
                    }
                }
            }

            overlaps.Add(new PersonOverlap(person.PersonId, [.. person.Facts
                .Where(f => resourcesByFact.ContainsKey(f.FactId))
                .Select(f => Describe(f, resourcesByFact[f.FactId]))]));
        }

        return population;
    }

    private static OverlapFact Describe(ClinicalFact fact, List<OverlapResource> resources)
    {
        var kind = fact.NearMissOf is not null ? "near-miss"
            : resources.Select(r => r.Persona).Distinct(StringComparer.Ordinal).Count() > 1 ? "shared"
            : "single";
        return new OverlapFact(fact.FactId, fact.Category.Slug(), kind, fact.NearMissOf, resources);
    }

    private static JsonObject Organization(FhirVersion version, SiteConventions site, string prefix) =>
        version == FhirVersion.R4 ? R4Renderer.Organization(site, prefix) : Dstu2Renderer.Organization(site, prefix);

    private static JsonObject Practitioner(FhirVersion version, SiteConventions site, string prefix) =>
        version == FhirVersion.R4 ? R4Renderer.Practitioner(site, prefix) : Dstu2Renderer.Practitioner(site, prefix);
}
