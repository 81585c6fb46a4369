namespace Aggregator.Domain.Records;

/// <summary>The record's categories (plural kebab-case), and which category a resource belongs to.</summary>
public static class RecordCategory
{
    public const string Demographics = "demographics";
    public const string Conditions = "conditions";
    public const string Medications = "medications";
    public const string Allergies = "allergies";
    public const string Labs = "labs";
    public const string Vitals = "vitals";
    public const string SocialHistory = "social-history";
    public const string Surveys = "surveys";
    public const string Exams = "exams";
    public const string Observations = "observations";
    public const string Immunizations = "immunizations";
    public const string Procedures = "procedures";
    public const string Encounters = "encounters";
    public const string DiagnosticReports = "diagnostic-reports";
    public const string Documents = "documents";
    public const string CarePlans = "care-plans";
    public const string Goals = "goals";
    public const string Devices = "devices";
    public const string CareTeam = "care-team";
    public const string Coverage = "coverage";
    public const string Claims = "claims";
    public const string ImagingStudies = "imaging-studies";

    /// <summary>Resources that support items rather than being facts of their own.</summary>
    private static readonly HashSet<string> Supporting = new(StringComparer.Ordinal)
    {
        "Practitioner", "PractitionerRole", "Organization", "Location", "Medication", "Binary", "Provenance", "Bundle", "OperationOutcome",
    };

    private static readonly Dictionary<string, string> ByType = new(StringComparer.Ordinal)
    {
        ["Patient"] = Demographics,
        ["Condition"] = Conditions,
        ["MedicationRequest"] = Medications,
        ["MedicationStatement"] = Medications,
        ["MedicationDispense"] = Medications,
        ["MedicationAdministration"] = Medications,
        ["AllergyIntolerance"] = Allergies,
        ["Immunization"] = Immunizations,
        ["Procedure"] = Procedures,
        ["Encounter"] = Encounters,
        ["DiagnosticReport"] = DiagnosticReports,
        ["DocumentReference"] = Documents,
        ["CarePlan"] = CarePlans,
        ["Goal"] = Goals,
        ["Device"] = Devices,
        ["CareTeam"] = CareTeam,
        ["Coverage"] = Coverage,
        ["Claim"] = Claims,
        ["ExplanationOfBenefit"] = Claims,
        ["ImagingStudy"] = ImagingStudies,
    };

    private static readonly Dictionary<string, string> ByObservationCategory = new(StringComparer.Ordinal)
    {
        ["laboratory"] = Labs,
        ["vital-signs"] = Vitals,
        ["social-history"] = SocialHistory,
        ["survey"] = Surveys,
        ["exam"] = Exams,
    };

    public static bool IsSupporting(string resourceType) => Supporting.Contains(resourceType);

    /// <summary>Every category an item can have: the fixed ones, and the plural of each type of the R4 patient compartment.</summary>
    private static readonly HashSet<string> Known = new(
        ByType.Values.Concat(ByObservationCategory.Values).Append(Observations)
            .Concat(Sync.PatientCompartment.R4Types.Where(t => !IsSupporting(t)).Select(t => For(t, []))),
        StringComparer.Ordinal);

    /// <summary>
    /// The categories that are the plural of a resource type with no category of its own (e.g. <c>service-requests</c>),
    /// each with its type: their items carry only the fields every item has.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ByTypeName { get; } = Sync.PatientCompartment.R4Types
        .Where(t => !IsSupporting(t) && t != "Observation" && !ByType.ContainsKey(t))
        .Order(StringComparer.Ordinal)
        .ToDictionary(t => For(t, []), t => t, StringComparer.Ordinal);

    /// <summary>Every category an item can have.</summary>
    public static IReadOnlyCollection<string> All => Known;

    /// <summary>Whether <paramref name="category"/> names a category (whether or not this patient has items in it).</summary>
    public static bool IsKnown(string category) => Known.Contains(category);

    /// <summary>
    /// The category of an R4 resource: Observations by their category code (labs, vitals,
    /// social-history, surveys, exams, else observations); other types by type; any other type
    /// of the patient's record by its own name (e.g. <c>QuestionnaireResponse</c> → <c>questionnaire-responses</c>).
    /// </summary>
    public static string For(string resourceType, IEnumerable<string> observationCategories)
    {
        ArgumentNullException.ThrowIfNull(observationCategories);
        if (resourceType == "Observation")
        {
            foreach (var code in observationCategories)
            {
                if (ByObservationCategory.TryGetValue(code, out var category))
                {
                    return category;
                }
            }

            return Observations;
        }

        return ByType.TryGetValue(resourceType, out var known) ? known : Plural(resourceType);
    }

    private static string Plural(string resourceType)
    {
        var kebab = string.Concat(resourceType.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
        return kebab.EndsWith('y') ? kebab[..^1] + "ies" : kebab.EndsWith('s') ? kebab : kebab + "s";
    }
}
