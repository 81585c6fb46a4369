namespace Aggregator.Sandbox.Generator;

/// <summary>How one site writes what it holds: its persona, its coding and unit habits, its organization and clinician.</summary>
public sealed record SiteConventions(
    CareSite Site,
    string Persona,
    bool CodesConditionsInSnomed,
    bool CodesConditionsInIcd10Cm,
    IReadOnlySet<UnitConvention> Units,
    string OrganizationName,
    string OrganizationPhone,
    string ClinicianGiven,
    string ClinicianFamily,
    string ClinicianNpi)
{
    /// <summary>The unit this site writes a test in, and the factor from the canonical unit.</summary>
    public (string Unit, string UnitText, decimal Factor, int Decimals) UnitFor(ObservationDefinition test) =>
        test.Alternative is { } alternative && Units.Contains(alternative.Convention)
            ? (alternative.Unit, alternative.UnitText, alternative.Factor, alternative.Decimals)
            : (test.Unit, test.UnitText, 1m, test.Decimals);
}

/// <summary>
/// The three sites of every generated person. The primary care practice (<c>nextgen</c>, R4 and DSTU2) codes
/// conditions in SNOMED CT and writes mg/dL and kg; the specialty clinic (<c>epic</c>) codes in ICD-10-CM and writes
/// mass concentrations in g/L; the hospital (<c>cerner</c>) codes in both and weighs in pounds.
/// </summary>
public static class CareSites
{
    public static readonly IReadOnlyList<SiteConventions> All =
    [
        new(CareSite.PrimaryCare, "nextgen", true, false, new HashSet<UnitConvention>(), "Riverside Family Medicine", "217-555-0110",
            "Maya", "Lindgren", "1588667638"),
        new(CareSite.Specialty, "epic", false, true, new HashSet<UnitConvention> { UnitConvention.GramsPerLiter }, "Lakeside Specialty Clinic",
            "217-555-0120", "Jonah", "Whitfield", "1497758544"),
        new(CareSite.Hospital, "cerner", true, true, new HashSet<UnitConvention> { UnitConvention.Pounds }, "Mercy Valley Hospital",
            "217-555-0130", "Elena", "Ruiz", "1306849450"),
    ];

    public static SiteConventions Of(CareSite site) => All[(int)site];
}
