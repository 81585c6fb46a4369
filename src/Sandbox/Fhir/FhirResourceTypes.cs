using Aggregator.Sandbox.FhirData;
using Aggregator.Sandbox.Personas;

namespace Aggregator.Sandbox.Fhir;

/// <summary>Which resource types a base searches, and which search parameters each type understands.</summary>
public static class FhirResourceTypes
{
    /// <summary>The patient-compartment types a US Core R4 server offers.</summary>
    public static readonly IReadOnlyList<string> R4PatientTypes =
    [
        "AllergyIntolerance", "CarePlan", "CareTeam", "Condition", "Coverage", "Device", "DiagnosticReport",
        "DocumentReference", "Encounter", "Goal", "Immunization", "MedicationDispense", "MedicationRequest",
        "MedicationStatement", "Observation", "Procedure", "Provenance", "QuestionnaireResponse", "RelatedPerson",
        "ServiceRequest", "Specimen",
    ];

    /// <summary>Their DSTU2 (Argonaut) equivalents.</summary>
    public static readonly IReadOnlyList<string> Dstu2PatientTypes =
    [
        "AllergyIntolerance", "CarePlan", "Condition", "Device", "DiagnosticOrder", "DiagnosticReport",
        "DocumentReference", "Encounter", "FamilyMemberHistory", "Goal", "Immunization", "MedicationAdministration",
        "MedicationDispense", "MedicationOrder", "MedicationStatement", "Observation", "Procedure", "Provenance",
        "QuestionnaireResponse", "RelatedPerson", "Specimen",
    ];

    /// <summary>Types read by id even when no data of theirs is loaded.</summary>
    public static readonly IReadOnlyList<string> ReadableSharedTypes = ["Practitioner", "Organization", "Location", "Medication", "Binary"];

    private static readonly HashSet<string> WithCategory = new(StringComparer.Ordinal)
    {
        "AllergyIntolerance", "CarePlan", "CareTeam", "Condition", "DiagnosticReport", "DocumentReference", "Goal",
        "MedicationRequest", "MedicationStatement", "Observation", "Procedure", "ServiceRequest",
    };

    private static readonly HashSet<string> WithCode = new(StringComparer.Ordinal)
    {
        "AllergyIntolerance", "Condition", "DiagnosticOrder", "DiagnosticReport", "FamilyMemberHistory", "Immunization", "List",
        "MedicationAdministration", "MedicationDispense", "MedicationOrder", "MedicationRequest", "MedicationStatement",
        "Observation", "Procedure", "ServiceRequest",
    };

    private static readonly HashSet<string> WithIntent = new(StringComparer.Ordinal) { "CarePlan", "MedicationRequest", "ServiceRequest" };

    private static readonly HashSet<string> WithMedication = new(StringComparer.Ordinal)
    {
        "MedicationRequest", "MedicationOrder", "MedicationDispense", "MedicationStatement", "MedicationAdministration",
    };

    public static IReadOnlyList<string> PatientTypes(FhirVersion version) =>
        version == FhirVersion.R4 ? R4PatientTypes : Dstu2PatientTypes;

    /// <summary>Patient plus every compartment type of the version plus every other compartment type loaded.</summary>
    public static IReadOnlyList<string> SearchableTypes(FhirVersion version, FhirDataset dataset) =>
        PatientTypes(version)
            .Concat(dataset.ResourceTypes.Where(t => !ResourceIndexer.SharedTypes.Contains(t)))
            .Append("Patient")
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();

    public static IReadOnlyList<string> ReadableTypes(FhirVersion version, FhirDataset dataset) =>
        SearchableTypes(version, dataset).Concat(ReadableSharedTypes).Concat(dataset.ResourceTypes)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>The search parameters (besides the common <c>_id</c>, <c>_lastUpdated</c>, <c>_count</c>) of a type.</summary>
    public static IEnumerable<string> SearchParameters(string type)
    {
        if (type != "Patient")
        {
            yield return "patient";
            yield return "status";
        }

        if (WithCategory.Contains(type))
        {
            yield return "category";
        }

        if (WithCode.Contains(type))
        {
            yield return "code";
        }

        if (WithIntent.Contains(type))
        {
            yield return "intent";
        }
    }

    public static bool HasMedication(string type) => WithMedication.Contains(type);
}
