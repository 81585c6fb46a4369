using System.Collections.Frozen;

namespace Aggregator.Domain.Fhir.Dstu2.Datatypes;

/// <summary>
/// Code system URIs as R4 names them. R4 moved the HL7 v2/v3 tables and several FHIR-defined systems to
/// terminology.hl7.org (codes unchanged); real DSTU2 servers also wrote well-known systems with a trailing slash
/// or under an alias, which would keep equal codes from matching in the merged record.
/// </summary>
internal static class CodeSystems
{
    public const string Ucum = "http://unitsofmeasure.org";

    private const string V2Prefix = "http://hl7.org/fhir/v2/";
    private const string V3Prefix = "http://hl7.org/fhir/v3/";
    private const string TerminologyPrefix = "http://terminology.hl7.org/CodeSystem/";

    private static readonly FrozenDictionary<string, string> Aliases = new Dictionary<string, string>
    {
        ["http://unitsofmeasure.org/"] = Ucum,
        ["http://hl7.org/fhir/ValueSet/units-of-time"] = Ucum,
        ["http://loinc.org/"] = "http://loinc.org",
        ["http://snomed.info/sct/"] = "http://snomed.info/sct",
        ["http://www.nlm.nih.gov/research/umls/rxnorm/"] = "http://www.nlm.nih.gov/research/umls/rxnorm",
        ["http://www2a.cdc.gov/vaccines/IIS/IISStandards/vaccines.asp?rpt=cvx"] = "http://hl7.org/fhir/sid/cvx",
        ["http://hl7.org/fhir/ValueSet/languages"] = "urn:ietf:bcp:47",
        ["http://hl7.org/fhir/observation-category"] = TerminologyPrefix + "observation-category",
        ["http://hl7.org/fhir/organization-type"] = TerminologyPrefix + "organization-type",
        ["http://hl7.org/fhir/ValueSet/organization-type"] = TerminologyPrefix + "organization-type",
        ["http://hl7.org/fhir/diagnostic-service-sections"] = TerminologyPrefix + "v2-0074",
        ["http://hl7.org/fhir/contactentity-type"] = TerminologyPrefix + "contactentity-type",
        ["http://hl7.org/fhir/location-physical-type"] = TerminologyPrefix + "location-physical-type",
        ["http://hl7.org/fhir/data-absent-reason"] = TerminologyPrefix + "data-absent-reason",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static string ToR4(string system)
    {
        if (Aliases.TryGetValue(system, out var r4System))
        {
            return r4System;
        }

        if (system.StartsWith(V2Prefix, StringComparison.Ordinal))
        {
            return TerminologyPrefix + "v2-" + system[V2Prefix.Length..].TrimEnd('/');
        }

        return system.StartsWith(V3Prefix, StringComparison.Ordinal)
            ? TerminologyPrefix + "v3-" + system[V3Prefix.Length..].TrimEnd('/')
            : system;
    }

    /// <summary>An R4 terminology.hl7.org code system by its id (e.g. <c>condition-clinical</c>).</summary>
    public static string Terminology(string id) => TerminologyPrefix + id;
}
