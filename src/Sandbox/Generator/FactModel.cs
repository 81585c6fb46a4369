namespace Aggregator.Sandbox.Generator;

/// <summary>
/// The places a generated person receives care. Each is played by one persona (see <see cref="CareSites"/>), and
/// each writes the same facts its own way (codes, units, how documents are delivered).
/// </summary>
public enum CareSite
{
    PrimaryCare,
    Specialty,
    Hospital,
}

public enum FactCategory
{
    Conditions,
    Medications,
    Allergies,
    Labs,
    Vitals,
    Immunizations,
    Procedures,
    Encounters,
    DiagnosticReports,
    Documents,
    CarePlans,
    Goals,
}

public static class FactCategories
{
    /// <summary>The plural kebab-case name used by the ground truth, e.g. <c>diagnostic-reports</c>.</summary>
    public static string Slug(this FactCategory category) => category switch
    {
        FactCategory.Conditions => "conditions",
        FactCategory.Medications => "medications",
        FactCategory.Allergies => "allergies",
        FactCategory.Labs => "labs",
        FactCategory.Vitals => "vitals",
        FactCategory.Immunizations => "immunizations",
        FactCategory.Procedures => "procedures",
        FactCategory.Encounters => "encounters",
        FactCategory.DiagnosticReports => "diagnostic-reports",
        FactCategory.Documents => "documents",
        FactCategory.CarePlans => "care-plans",
        FactCategory.Goals => "goals",
        _ => throw new ArgumentOutOfRangeException(nameof(category)),
    };
}

/// <summary>A site that holds a fact, and the visit there it was recorded at (none when it was sent in from elsewhere).</summary>
public sealed record Holding(CareSite Site, string? EncounterFactId = null);

public enum Gender
{
    Female,
    Male,
}

public sealed record Demographics(string Given, string Family, Gender Gender, DateOnly BirthDate, string Street, string City, string State,
    string PostalCode, string Phone, string MaritalStatus);

/// <summary>One generated person: who they are and every fact of their care, with the sites that hold each fact.</summary>
public sealed record GeneratedPerson(string PersonId, Demographics Demographics, IReadOnlyList<ClinicalFact> Facts)
{
    private readonly Dictionary<string, ClinicalFact> _byId = Facts.ToDictionary(f => f.FactId, StringComparer.Ordinal);

    public ClinicalFact Fact(string factId) => _byId[factId];

    public bool Holds(CareSite site, string factId) => _byId.TryGetValue(factId, out var fact) && fact.HeldAt(site);

    public int AgeOn(DateOnly day)
    {
        var age = day.Year - Demographics.BirthDate.Year;
        return day < Demographics.BirthDate.AddYears(age) ? age - 1 : age;
    }
}

/// <summary>
/// A fact of a person's care, independent of any FHIR version or provider. The sites in <see cref="Holdings"/> all
/// state this same fact; <see cref="NearMissOf"/> names a fact this one resembles but is not.
/// </summary>
public abstract record ClinicalFact
{
    public required string FactId { get; init; }

    public required IReadOnlyList<Holding> Holdings { get; init; }

    public string? NearMissOf { get; init; }

    public abstract FactCategory Category { get; }

    /// <summary>When the record was written; it becomes <c>meta.lastUpdated</c>.</summary>
    public abstract DateTimeOffset Recorded { get; }

    public bool HeldAt(CareSite site) => Holdings.Any(h => h.Site == site);

    public Holding HoldingAt(CareSite site) => Holdings.First(h => h.Site == site);
}

public enum EncounterKind
{
    Wellness,
    FollowUp,
    Symptom,
    Consultation,
    SpecialistFollowUp,
    Emergency,
    Vaccination,
    Procedure,
}

public sealed record EncounterFact(EncounterKind Kind, DateTimeOffset Start, DateTimeOffset End, string? ReasonFactId) : ClinicalFact
{
    public override FactCategory Category => FactCategory.Encounters;

    public override DateTimeOffset Recorded => End;
}

public sealed record ConditionFact(ConditionDefinition Condition, DateOnly Onset, DateOnly? Abatement, DateTimeOffset RecordedAt, bool Chronic)
    : ClinicalFact
{
    public override FactCategory Category => FactCategory.Conditions;

    public override DateTimeOffset Recorded => RecordedAt;
}

public enum MedicationStatus
{
    Active,
    Completed,
    Stopped,
}

public sealed record MedicationFact(MedicationDefinition Medication, DateTimeOffset Authored, MedicationStatus Status, string? ReasonFactId)
    : ClinicalFact
{
    public override FactCategory Category => FactCategory.Medications;

    public override DateTimeOffset Recorded => Authored;
}

public sealed record AllergyFact(AllergyDefinition Allergy, DateTimeOffset RecordedAt) : ClinicalFact
{
    public override FactCategory Category => FactCategory.Allergies;

    public override DateTimeOffset Recorded => RecordedAt;
}

public sealed record ComponentValue(ObservationDefinition Test, decimal Value);

/// <summary>A lab result or a vital sign: one value, or components (blood pressure), in the definition's canonical unit.</summary>
public sealed record ObservationFact(ObservationDefinition Test, decimal? Value, IReadOnlyList<ComponentValue> Components,
    DateTimeOffset Effective, DateTimeOffset Issued) : ClinicalFact
{
    public override FactCategory Category => Test.Kind == ObservationKind.Laboratory ? FactCategory.Labs : FactCategory.Vitals;

    public override DateTimeOffset Recorded => Issued;
}

public sealed record ImmunizationFact(VaccineDefinition Vaccine, DateTimeOffset Given, string LotNumber) : ClinicalFact
{
    public override FactCategory Category => FactCategory.Immunizations;

    public override DateTimeOffset Recorded => Given;
}

public sealed record ProcedureFact(ProcedureDefinition Procedure, DateTimeOffset Start, DateTimeOffset End, string? ReasonFactId) : ClinicalFact
{
    public override FactCategory Category => FactCategory.Procedures;

    public override DateTimeOffset Recorded => End;
}

public sealed record DiagnosticReportFact(PanelDefinition Panel, DateTimeOffset Effective, DateTimeOffset Issued, IReadOnlyList<string> ResultFactIds)
    : ClinicalFact
{
    public override FactCategory Category => FactCategory.DiagnosticReports;

    public override DateTimeOffset Recorded => Issued;
}

/// <summary>How a document's content reaches the reader: inline base64 <c>data</c>, or a <c>Binary</c> to fetch.</summary>
public enum DocumentDelivery
{
    Inline,
    Binary,
}

public sealed record DocumentFact(ClinicalCode Type, DateTimeOffset Date, string Title, string Text, DocumentDelivery Delivery) : ClinicalFact
{
    public override FactCategory Category => FactCategory.Documents;

    public override DateTimeOffset Recorded => Date;
}

public sealed record CarePlanFact(CarePlanDefinition Plan, DateOnly Start, IReadOnlyList<string> AddressesFactIds, IReadOnlyList<string> GoalFactIds,
    DateTimeOffset RecordedAt) : ClinicalFact
{
    public override FactCategory Category => FactCategory.CarePlans;

    public override DateTimeOffset Recorded => RecordedAt;
}

public sealed record GoalFact(GoalDefinition Goal, DateOnly Start, DateOnly Due, string? AddressesFactId, DateTimeOffset RecordedAt) : ClinicalFact
{
    public override FactCategory Category => FactCategory.Goals;

    public override DateTimeOffset Recorded => RecordedAt;
}

public enum EncounterClass
{
    Ambulatory,
    Emergency,
}

/// <summary>How each kind of visit is typed: SNOMED CT, the CPT code a bill would carry, and a label.</summary>
public static class VisitTypes
{
    public static (ClinicalCode Snomed, ClinicalCode? Cpt, string Text, EncounterClass Class) Of(EncounterKind kind, int age) => kind switch
    {
        EncounterKind.Wellness => (ClinicalCatalog.WellnessVisit,
            age < 40 ? ClinicalCatalog.PreventiveVisitUnder40 : age < 65 ? ClinicalCatalog.PreventiveVisit40To64 : ClinicalCatalog.PreventiveVisit65Plus,
            "Annual wellness visit", EncounterClass.Ambulatory),
        EncounterKind.FollowUp => (ClinicalCatalog.FollowUpVisit, ClinicalCatalog.EstablishedOfficeVisit, "Follow-up visit", EncounterClass.Ambulatory),
        EncounterKind.Symptom => (ClinicalCatalog.SymptomVisit, ClinicalCatalog.EstablishedOfficeVisit, "Sick visit", EncounterClass.Ambulatory),
        EncounterKind.Consultation => (ClinicalCatalog.ConsultationVisit, ClinicalCatalog.NewOfficeVisit, "Specialist consultation", EncounterClass.Ambulatory),
        EncounterKind.SpecialistFollowUp => (ClinicalCatalog.FollowUpVisit, ClinicalCatalog.EstablishedOfficeVisit, "Specialist follow-up", EncounterClass.Ambulatory),
        EncounterKind.Emergency => (ClinicalCatalog.EmergencyVisit, ClinicalCatalog.EmergencyDepartmentVisit, "Emergency department visit", EncounterClass.Emergency),
        EncounterKind.Vaccination => (ClinicalCatalog.VaccinationVisit, ClinicalCatalog.VaccineAdministration, "Immunization visit", EncounterClass.Ambulatory),
        EncounterKind.Procedure => (ClinicalCatalog.ProcedureVisit, null, "Outpatient procedure", EncounterClass.Ambulatory),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static string MaritalStatusDisplay(string code) => code switch
    {
        "M" => "Married",
        "S" => "Never Married",
        "W" => "Widowed",
        "D" => "Divorced",
        _ => "Unknown",
    };

    /// <summary>The interpretation of a value against the test's range: H, L or N; null when the test has no range.</summary>
    public static string? Interpretation(ObservationDefinition test, decimal value)
    {
        if (test.Low is null && test.High is null)
        {
            return null;
        }

        return value < test.Low ? "L" : value > test.High ? "H" : "N";
    }

    public static string InterpretationDisplay(string code) => code switch
    {
        "H" => "High",
        "L" => "Low",
        _ => "Normal",
    };
}
