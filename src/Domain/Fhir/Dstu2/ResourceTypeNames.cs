using System.Collections.Frozen;

namespace Aggregator.Domain.Fhir.Dstu2;

/// <summary>DSTU2 resource types that R3 or R4 renamed or folded into another type.</summary>
internal static class ResourceTypeNames
{
    private static readonly FrozenDictionary<string, string> Renamed = new Dictionary<string, string>
    {
        ["MedicationOrder"] = "MedicationRequest",
        ["DiagnosticOrder"] = "ServiceRequest",
        ["ProcedureRequest"] = "ServiceRequest",
        ["ReferralRequest"] = "ServiceRequest",
        ["DeviceUseRequest"] = "DeviceRequest",
        ["Conformance"] = "CapabilityStatement",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static string ToR4(string dstu2ResourceType) =>
        Renamed.TryGetValue(dstu2ResourceType, out var r4Type) ? r4Type : dstu2ResourceType;

    public static bool IsRenamed(string dstu2ResourceType) => Renamed.ContainsKey(dstu2ResourceType);
}
