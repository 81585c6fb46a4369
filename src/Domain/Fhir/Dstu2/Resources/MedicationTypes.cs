namespace Aggregator.Domain.Fhir.Dstu2.Resources;

/// <summary>The types of medication[x], unchanged from DSTU2 to R4.</summary>
internal static class MedicationTypes
{
    public static readonly string[] All = ["CodeableConcept", "Reference"];
}
