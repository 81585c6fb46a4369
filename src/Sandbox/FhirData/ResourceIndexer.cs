using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Aggregator.Sandbox.FhirData;

/// <summary>Turns a resource into a <see cref="StoredResource"/>: its bytes and the values searches match on.</summary>
public static partial class ResourceIndexer
{
    /// <summary>Types outside any patient compartment: served by read, never by a patient search.</summary>
    public static readonly IReadOnlySet<string> SharedTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        "Organization", "Practitioner", "PractitionerRole", "Location", "Medication", "Binary", "Substance",
        "HealthcareService", "Endpoint", "ValueSet", "CodeSystem", "StructureDefinition", "Questionnaire",
    };

    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly string[] PatientFields = ["patient", "subject", "beneficiary"];

    [GeneratedRegex(@"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-\.]{1,64})(/_history/.*)?$", RegexOptions.CultureInvariant)]
    private static partial Regex RelativeReference();

    /// <summary>
    /// Gives a resource (and everything it references) ids of one persona by prefixing them, so that two
    /// providers never share an id.
    /// </summary>
    public static JsonObject WithIdPrefix(JsonObject resource, string prefix)
    {
        var copy = (JsonObject)resource.DeepClone();
        if (prefix.Length == 0)
        {
            return copy;
        }

        copy["id"] = prefix + ResourceJson.IdOf(copy);
        ResourceJson.RewriteReferences(copy, reference =>
        {
            var match = RelativeReference().Match(reference);
            return match.Success ? $"{match.Groups[1].Value}/{prefix}{match.Groups[2].Value}{match.Groups[3].Value}" : null;
        });
        return copy;
    }

    public static StoredResource Index(JsonObject resource, string? filePatientId)
    {
        var type = ResourceJson.TypeOf(resource)!;
        var id = ResourceJson.IdOf(resource)!;
        // The reader stamped meta.lastUpdated on every resource.
        _ = FhirDateTime.TryParseRange(ResourceJson.StringOf(resource["meta"]?["lastUpdated"]), out var lastUpdated, out _);
        var targets = type == "Provenance"
            ? (resource["target"] as JsonArray ?? []).Select(ResourceJson.ReferenceOf).OfType<string>().ToList()
            : [];

        return new StoredResource
        {
            Type = type,
            Id = id,
            PatientId = CompartmentOf(resource, type, id, targets, filePatientId),
            LastUpdated = lastUpdated,
            Json = JsonSerializer.SerializeToUtf8Bytes(resource, Compact),
            Categories = ResourceJson.TokensOf(resource["category"]).ToList(),
            Codes = ResourceJson.TokensOf(resource["code"] ?? resource["medicationCodeableConcept"] ?? resource["vaccineCode"]).ToList(),
            Statuses = ResourceJson.TokensOf(resource["status"] ?? resource["clinicalStatus"] ?? resource["lifecycleStatus"]).ToList(),
            Intents = ResourceJson.TokensOf(resource["intent"]).ToList(),
            MedicationReference = ResourceJson.ReferenceOf(resource["medicationReference"]),
            Targets = targets,
        };
    }

    private static string? CompartmentOf(JsonObject resource, string type, string id, List<string> targets, string? filePatientId)
    {
        if (type == "Patient")
        {
            return id;
        }

        if (SharedTypes.Contains(type))
        {
            return null;
        }

        foreach (var field in PatientFields)
        {
            if (PatientIdOf(ResourceJson.ReferenceOf(resource[field])) is { } patientId)
            {
                return patientId;
            }
        }

        foreach (var target in targets)
        {
            if (PatientIdOf(target) is { } patientId)
            {
                return patientId;
            }
        }

        // Some generators leave out the subject (DSTU2 Goals); the file's only patient owns them.
        return filePatientId;
    }

    private static string? PatientIdOf(string? reference) =>
        reference is not null && reference.StartsWith("Patient/", StringComparison.Ordinal) ? reference["Patient/".Length..] : null;
}
