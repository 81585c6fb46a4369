using Aggregator.Domain.Providers;

namespace Aggregator.Domain.Sync;

/// <summary>Resource types that hold a patient's own data (the patient compartment), per FHIR version.</summary>
public static class PatientCompartment
{
    private static readonly HashSet<string> R4 = new(StringComparer.Ordinal)
    {
        "Account", "AdverseEvent", "AllergyIntolerance", "Appointment", "AppointmentResponse", "AuditEvent", "Basic", "BodyStructure",
        "CarePlan", "CareTeam", "ChargeItem", "Claim", "ClaimResponse", "ClinicalImpression", "Communication", "CommunicationRequest",
        "Composition", "Condition", "Consent", "Coverage", "CoverageEligibilityRequest", "CoverageEligibilityResponse", "DetectedIssue",
        "Device", "DeviceRequest", "DeviceUseStatement", "DiagnosticReport", "DocumentManifest", "DocumentReference", "Encounter",
        "EnrollmentRequest", "EpisodeOfCare", "ExplanationOfBenefit", "FamilyMemberHistory", "Flag", "Goal", "Group", "ImagingStudy",
        "Immunization", "ImmunizationEvaluation", "ImmunizationRecommendation", "Invoice", "List", "MeasureReport", "Media",
        "MedicationAdministration", "MedicationDispense", "MedicationRequest", "MedicationStatement", "MolecularSequence",
        "NutritionOrder", "Observation", "Person", "Procedure", "Provenance", "QuestionnaireResponse", "RelatedPerson",
        "RequestGroup", "ResearchSubject", "RiskAssessment", "Schedule", "ServiceRequest", "Specimen", "SupplyDelivery",
        "SupplyRequest", "VisionPrescription",
    };

    private static readonly HashSet<string> Dstu2 = new(StringComparer.Ordinal)
    {
        "AllergyIntolerance", "Appointment", "AppointmentResponse", "AuditEvent", "Basic", "BodySite", "CarePlan", "Claim",
        "ClinicalImpression", "Communication", "CommunicationRequest", "Composition", "Condition", "DetectedIssue", "Device",
        "DeviceUseRequest", "DeviceUseStatement", "DiagnosticOrder", "DiagnosticReport", "DocumentManifest", "DocumentReference",
        "Encounter", "EnrollmentRequest", "EpisodeOfCare", "FamilyMemberHistory", "Flag", "Goal", "ImagingObjectSelection",
        "ImagingStudy", "Immunization", "ImmunizationRecommendation", "List", "Media", "MedicationAdministration",
        "MedicationDispense", "MedicationOrder", "MedicationStatement", "NutritionOrder", "Observation", "Order", "Procedure",
        "ProcedureRequest", "Provenance", "QuestionnaireResponse", "ReferralRequest", "RelatedPerson", "RiskAssessment",
        "Schedule", "Specimen", "SupplyDelivery", "SupplyRequest", "VisionPrescription",
    };

    /// <summary>The resource types of the R4 patient compartment.</summary>
    public static IReadOnlySet<string> R4Types => R4;

    public static bool Contains(FhirVersion version, string resourceType) =>
        (version == FhirVersion.Dstu2 ? Dstu2 : R4).Contains(resourceType);
}
