using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Aggregator.Sandbox.Tests.Hosting;

namespace Aggregator.Sandbox.Tests.Generator;

/// <summary>A FHIR base of the sandbox: persona and version as the test API names them.</summary>
public readonly record struct BaseName(string Persona, string FhirVersion)
{
    public string Segment => FhirVersion.ToLowerInvariant();
}

/// <summary>
/// Everything one generated person has in their compartment at every base, fetched the way an app would: signed in
/// through the portal, every compartment type searched page by page (with the persona's required parameters).
/// Loaded once per person and sandbox.
/// </summary>
public sealed class GeneratedRecords
{
    public static readonly IReadOnlyList<string> R4Types =
    [
        "AllergyIntolerance", "CarePlan", "CareTeam", "Condition", "Coverage", "Device", "DiagnosticReport", "DocumentReference",
        "Encounter", "Goal", "Immunization", "MedicationDispense", "MedicationRequest", "MedicationStatement", "Observation",
        "Procedure", "Provenance", "QuestionnaireResponse", "RelatedPerson", "ServiceRequest", "Specimen",
    ];

    public static readonly IReadOnlyList<string> Dstu2Types =
    [
        "AllergyIntolerance", "CarePlan", "Condition", "Device", "DiagnosticOrder", "DiagnosticReport", "DocumentReference", "Encounter",
        "FamilyMemberHistory", "Goal", "Immunization", "MedicationAdministration", "MedicationDispense", "MedicationOrder",
        "MedicationStatement", "Observation", "Procedure", "Provenance", "QuestionnaireResponse", "RelatedPerson", "Specimen",
    ];

    private static readonly ConcurrentDictionary<string, Lazy<Task<GeneratedRecords>>> Cache = new(StringComparer.Ordinal);

    private GeneratedRecords(PersonOverlap overlap, Dictionary<BaseName, TestPatient> patients,
        Dictionary<BaseName, Dictionary<string, JsonObject>> resources, Dictionary<BaseName, HttpClient> clients)
    {
        Overlap = overlap;
        Patients = patients;
        Resources = resources;
        Clients = clients;
    }

    public PersonOverlap Overlap { get; }

    public Dictionary<BaseName, TestPatient> Patients { get; }

    /// <summary>Per base: every resource of the person's compartment (Patient aside) by <c>Type/id</c>.</summary>
    public Dictionary<BaseName, Dictionary<string, JsonObject>> Resources { get; }

    /// <summary>A client signed in as the person at each base.</summary>
    public Dictionary<BaseName, HttpClient> Clients { get; }

    public JsonObject Resource(OverlapResource resource) =>
        Resources[new BaseName(resource.Persona, resource.FhirVersion)][$"{resource.ResourceType}/{resource.ResourceId}"];

    public static Task<GeneratedRecords> LoadAsync(SamplesSandbox sandbox, int personNumber) =>
        Cache.GetOrAdd($"{sandbox.Server.Root}|{personNumber}", _ => new Lazy<Task<GeneratedRecords>>(() => FetchAsync(sandbox, personNumber))).Value;

    public static string PersonId(int number) =>
        string.Create(CultureInfo.InvariantCulture, $"person-g{SamplesSandbox.GeneratorSeed}-{number}");

    private static async Task<GeneratedRecords> FetchAsync(SamplesSandbox sandbox, int personNumber)
    {
        var personId = PersonId(personNumber);
        var overlap = (await sandbox.Server.OverlapAsync(personId)).Single();
        var patients = (await sandbox.Server.TestPatientsAsync()).Where(p => p.PersonId == personId)
            .ToDictionary(p => new BaseName(p.Persona, p.FhirVersion));
        var resources = new Dictionary<BaseName, Dictionary<string, JsonObject>>();
        var clients = new Dictionary<BaseName, HttpClient>();
        foreach (var (name, patient) in patients)
        {
            var client = await sandbox.PatientClientAsync(name.Persona, name.Segment, patient.PatientId);
            clients[name] = client;
            var fhirBase = sandbox.Server.FhirBase(name.Persona, name.Segment);
            var found = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
            foreach (var type in name.FhirVersion == "R4" ? R4Types : Dstu2Types)
            {
                var query = $"{type}?patient={patient.PatientId}&_count=200{RequiredParameters(name.Persona, type)}";
                foreach (var page in await client.SearchAllPagesAsync(new Uri(fhirBase, query)))
                {
                    foreach (var resource in page.Matches())
                    {
                        Assert.True(found.TryAdd($"{resource["resourceType"]}/{resource["id"]}", resource), "A resource was served twice.");
                    }
                }
            }

            resources[name] = found;
        }

        return new GeneratedRecords(overlap, patients, resources, clients);
    }

    /// <summary>What epic and cerner insist on (their configured quirks).</summary>
    public static string RequiredParameters(string persona, string type) => (persona, type) switch
    {
        ("epic", "Observation") => "&category=laboratory,vital-signs",
        ("cerner", "MedicationRequest") => "&intent=order",
        _ => "",
    };
}
