using System.Collections.Frozen;
using System.Text.Json.Nodes;
using Aggregator.Domain.Fhir.Dstu2.Datatypes;
using Aggregator.Domain.Fhir.Dstu2.Resources;

namespace Aggregator.Domain.Fhir.Dstu2;

/// <summary>
/// Converts DSTU2 (1.0.2) resources, as parsed JSON, to R4 (4.0.1) following the HL7 cross-version maps
/// (R2→R3→R4): one mapper per resource type, shared converters for the datatypes that changed.
/// </summary>
public static class Dstu2ToR4
{
    private static readonly FrozenDictionary<string, IResourceMapper> Mappers = new IResourceMapper[]
    {
        new PatientMapper(),
        new AllergyIntoleranceMapper(),
        new ConditionMapper(),
        new MedicationOrderMapper(),
        new MedicationStatementMapper(),
        new MedicationDispenseMapper(),
        new ObservationMapper(),
        new ImmunizationMapper(),
        new ProcedureMapper(),
        new DiagnosticReportMapper(),
        new DocumentReferenceMapper(),
        new EncounterMapper(),
        new CarePlanMapper(),
        new GoalMapper(),
        new ListMapper(),
        new DeviceMapper(),
        new PractitionerMapper(),
        new OrganizationMapper(),
        new LocationMapper(),
        new MedicationMapper(),
    }.ToFrozenDictionary(mapper => mapper.Dstu2Type, StringComparer.Ordinal);

    /// <summary>
    /// Converts one DSTU2 resource to R4. Returns a new JsonObject (the input is not modified), or a failure with
    /// a reason when the resource is of a type we do not map or cannot be read. An <c>id</c> is optional.
    /// </summary>
    public static Dstu2Conversion Convert(JsonObject dstu2Resource)
    {
        ArgumentNullException.ThrowIfNull(dstu2Resource);
        if (dstu2Resource.Text("resourceType") is not { } resourceType)
        {
            return Dstu2Conversion.Failure("The resource has no resourceType.");
        }

        if (!Mappers.TryGetValue(resourceType, out var mapper))
        {
            return Dstu2Conversion.Failure($"DSTU2 {resourceType} is not mapped to R4.");
        }

        try
        {
            var target = new JsonObject { ["resourceType"] = mapper.R4Type };
            ResourceBase.Copy(dstu2Resource, target);
            mapper.Map(dstu2Resource, target);
            EmptyElements.Prune(target);
            return Dstu2Conversion.Success(target);
        }
        catch (Exception error) when (error is InvalidOperationException or FormatException or ArgumentException)
        {
            // JSON of an unexpected shape that the tolerant readers did not absorb: the caller keeps the original.
            return Dstu2Conversion.Failure($"DSTU2 {resourceType} could not be read: {error.Message}");
        }
    }

    public static bool IsMapped(string dstu2ResourceType) => Mappers.ContainsKey(dstu2ResourceType);

    /// <summary>R4 type name for a DSTU2 type (MedicationOrder → MedicationRequest; others mostly the same).</summary>
    public static string R4TypeOf(string dstu2ResourceType) => ResourceTypeNames.ToR4(dstu2ResourceType);
}
