namespace Aggregator.Sandbox.Generator;

/// <summary>One coding in a real code system.</summary>
public sealed record ClinicalCode(string System, string Code, string Display);

public static class CodeSystems
{
    public const string Snomed = "http://snomed.info/sct";
    public const string Icd10Cm = "http://hl7.org/fhir/sid/icd-10-cm";
    public const string RxNorm = "http://www.nlm.nih.gov/research/umls/rxnorm";
    public const string Loinc = "http://loinc.org";
    public const string Cvx = "http://hl7.org/fhir/sid/cvx";
    public const string Cpt = "http://www.ama-assn.org/go/cpt";
    public const string Ucum = "http://unitsofmeasure.org";
}

public sealed record ConditionDefinition(string Key, ClinicalCode Snomed, ClinicalCode Icd10Cm, string Text);

public sealed record MedicationDefinition(ClinicalCode RxNorm, string Instructions, decimal Dose, string DoseUnit, string DoseForm,
    int TimesPerDay, bool AsNeeded);

/// <summary>How a site may write a quantity differently: grams per litre instead of mg/dL, pounds instead of kg.</summary>
public enum UnitConvention
{
    GramsPerLiter,
    Pounds,
}

public sealed record UnitAlternative(UnitConvention Convention, string Unit, string UnitText, decimal Factor, int Decimals);

public enum ObservationKind
{
    Laboratory,
    VitalSigns,
}

public sealed record ObservationDefinition(string Key, ClinicalCode Code, ObservationKind Kind, string Unit, string UnitText, int Decimals,
    decimal? Low = null, decimal? High = null, UnitAlternative? Alternative = null);

public sealed record PanelDefinition(ClinicalCode Code, IReadOnlyList<ObservationDefinition> Tests);

public sealed record VaccineDefinition(ClinicalCode Cvx);

public sealed record ProcedureDefinition(ClinicalCode Snomed, ClinicalCode? Cpt);

public enum AllergyCategory
{
    Food,
    Medication,
    Environment,
}

public sealed record AllergyDefinition(ClinicalCode Code, AllergyCategory Category, ClinicalCode Reaction, bool HighCriticality);

public sealed record CarePlanDefinition(ClinicalCode Code, string Title, IReadOnlyList<ClinicalCode> Activities);

public sealed record GoalDefinition(string Description, ObservationDefinition? Measure, decimal? TargetHigh);

/// <summary>What a chronic condition brings with it: its medicines, its care plan and goal.</summary>
public sealed record ChronicProfile(ConditionDefinition Condition, IReadOnlyList<MedicationDefinition> Medications,
    MedicationDefinition? SpecialistMedication, CarePlanDefinition? CarePlan, GoalDefinition? Goal);

/// <summary>
/// The code tables the generator draws from: SNOMED CT with ICD-10-CM for conditions, RxNorm for medicines, LOINC
/// with UCUM for labs and vitals, CVX for vaccines, SNOMED with CPT for procedures and visits.
/// </summary>
public static class ClinicalCatalog
{
    private static ClinicalCode Sct(string code, string display) => new(CodeSystems.Snomed, code, display);

    private static ClinicalCode Icd(string code, string display) => new(CodeSystems.Icd10Cm, code, display);

    private static ClinicalCode Rx(string code, string display) => new(CodeSystems.RxNorm, code, display);

    private static ClinicalCode Loinc(string code, string display) => new(CodeSystems.Loinc, code, display);

    private static ClinicalCode Cvx(string code, string display) => new(CodeSystems.Cvx, code, display);

    private static ClinicalCode Cpt(string code, string display) => new(CodeSystems.Cpt, code, display);

    private static readonly UnitAlternative MassPerLiter = new(UnitConvention.GramsPerLiter, "g/L", "g/L", 0.01m, 2);

    // Labs.
    public static readonly ObservationDefinition Glucose = new("glucose", Loinc("2345-7", "Glucose [Mass/volume] in Serum or Plasma"),
        ObservationKind.Laboratory, "mg/dL", "mg/dL", 0, 70, 99, MassPerLiter);
    public static readonly ObservationDefinition Creatinine = new("creatinine", Loinc("2160-0", "Creatinine [Mass/volume] in Serum or Plasma"),
        ObservationKind.Laboratory, "mg/dL", "mg/dL", 2, 0.70m, 1.30m);
    public static readonly ObservationDefinition Sodium = new("sodium", Loinc("2951-2", "Sodium [Moles/volume] in Serum or Plasma"),
        ObservationKind.Laboratory, "mmol/L", "mmol/L", 0, 136, 145);
    public static readonly ObservationDefinition Potassium = new("potassium", Loinc("2823-3", "Potassium [Moles/volume] in Serum or Plasma"),
        ObservationKind.Laboratory, "mmol/L", "mmol/L", 1, 3.5m, 5.1m);
    public static readonly ObservationDefinition HemoglobinA1c = new("hba1c", Loinc("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"),
        ObservationKind.Laboratory, "%", "%", 1, 4.0m, 5.6m);
    public static readonly ObservationDefinition Cholesterol = new("cholesterol", Loinc("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma"),
        ObservationKind.Laboratory, "mg/dL", "mg/dL", 0, null, 199, MassPerLiter);
    public static readonly ObservationDefinition Triglycerides = new("triglycerides", Loinc("2571-8", "Triglyceride [Mass/volume] in Serum or Plasma"),
        ObservationKind.Laboratory, "mg/dL", "mg/dL", 0, null, 149, MassPerLiter);
    public static readonly ObservationDefinition Hdl = new("hdl", Loinc("2085-9", "Cholesterol in HDL [Mass/volume] in Serum or Plasma"),
        ObservationKind.Laboratory, "mg/dL", "mg/dL", 0, 40, null, MassPerLiter);
    public static readonly ObservationDefinition Ldl = new("ldl", Loinc("18262-6", "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay"),
        ObservationKind.Laboratory, "mg/dL", "mg/dL", 0, null, 99, MassPerLiter);
    public static readonly ObservationDefinition Hemoglobin = new("hemoglobin", Loinc("718-7", "Hemoglobin [Mass/volume] in Blood"),
        ObservationKind.Laboratory, "g/dL", "g/dL", 1, 12.0m, 17.5m);
    public static readonly ObservationDefinition Leukocytes = new("wbc", Loinc("6690-2", "Leukocytes [#/volume] in Blood by Automated count"),
        ObservationKind.Laboratory, "10*3/uL", "10*3/uL", 1, 4.5m, 11.0m);
    public static readonly ObservationDefinition Platelets = new("platelets", Loinc("777-3", "Platelets [#/volume] in Blood by Automated count"),
        ObservationKind.Laboratory, "10*3/uL", "10*3/uL", 0, 150, 400);

    // Vital signs.
    public static readonly ObservationDefinition BodyWeight = new("weight", Loinc("29463-7", "Body weight"), ObservationKind.VitalSigns,
        "kg", "kg", 1, Alternative: new UnitAlternative(UnitConvention.Pounds, "[lb_av]", "lb", 2.20462262m, 1));
    public static readonly ObservationDefinition BodyHeight = new("height", Loinc("8302-2", "Body height"), ObservationKind.VitalSigns, "cm", "cm", 1);
    public static readonly ObservationDefinition BodyMassIndex = new("bmi", Loinc("39156-5", "Body mass index (BMI) [Ratio]"),
        ObservationKind.VitalSigns, "kg/m2", "kg/m2", 1);
    public static readonly ObservationDefinition BloodPressure = new("bp", Loinc("85354-9", "Blood pressure panel with all children optional"),
        ObservationKind.VitalSigns, "mm[Hg]", "mmHg", 0);
    public static readonly ObservationDefinition Systolic = new("systolic", Loinc("8480-6", "Systolic blood pressure"),
        ObservationKind.VitalSigns, "mm[Hg]", "mmHg", 0, 90, 129);
    public static readonly ObservationDefinition Diastolic = new("diastolic", Loinc("8462-4", "Diastolic blood pressure"),
        ObservationKind.VitalSigns, "mm[Hg]", "mmHg", 0, 60, 79);
    public static readonly ObservationDefinition HeartRate = new("heart-rate", Loinc("8867-4", "Heart rate"), ObservationKind.VitalSigns, "/min", "beats/minute", 0);
    public static readonly ObservationDefinition BodyTemperature = new("temperature", Loinc("8310-5", "Body temperature"), ObservationKind.VitalSigns, "Cel", "C", 1);
    public static readonly ObservationDefinition OxygenSaturation = new("spo2", Loinc("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
        ObservationKind.VitalSigns, "%", "%", 0);

    public static readonly PanelDefinition MetabolicPanel = new(Loinc("51990-0", "Basic metabolic panel - Blood"), [Glucose, Creatinine, Sodium, Potassium]);
    public static readonly PanelDefinition LipidPanel = new(Loinc("57698-3", "Lipid panel with direct LDL - Serum or Plasma"), [Cholesterol, Triglycerides, Hdl, Ldl]);
    public static readonly PanelDefinition BloodCount = new(Loinc("58410-2", "CBC panel - Blood by Automated count"), [Hemoglobin, Leukocytes, Platelets]);
    public static readonly PanelDefinition A1cReport = new(HemoglobinA1c.Code, [HemoglobinA1c]);

    // Medicines (RxNorm clinical drugs).
    public static readonly MedicationDefinition Lisinopril = new(Rx("314076", "lisinopril 10 MG Oral Tablet"), "Take 1 tablet by mouth once daily", 1, "tablet", "TAB", 1, false);
    public static readonly MedicationDefinition Amlodipine = new(Rx("197361", "Amlodipine 5 MG Oral Tablet"), "Take 1 tablet by mouth once daily", 1, "tablet", "TAB", 1, false);
    public static readonly MedicationDefinition Hydrochlorothiazide = new(Rx("310798", "Hydrochlorothiazide 25 MG Oral Tablet"), "Take 1 tablet by mouth every morning", 1, "tablet", "TAB", 1, false);
    public static readonly MedicationDefinition Metformin = new(Rx("860975", "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet"), "Take 1 tablet by mouth twice daily with meals", 1, "tablet", "TAB", 2, false);
    public static readonly MedicationDefinition Simvastatin = new(Rx("312961", "Simvastatin 20 MG Oral Tablet"), "Take 1 tablet by mouth at bedtime", 1, "tablet", "TAB", 1, false);
    public static readonly MedicationDefinition Atorvastatin = new(Rx("259255", "Atorvastatin 80 MG Oral Tablet"), "Take 1 tablet by mouth once daily", 1, "tablet", "TAB", 1, false);
    public static readonly MedicationDefinition Albuterol = new(Rx("745679", "200 ACTUAT Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler"), "Inhale 2 puffs every 4 to 6 hours as needed for wheezing", 2, "puff", "{puff}", 4, true);
    public static readonly MedicationDefinition FluticasoneSalmeterol = new(Rx("896209", "60 ACTUAT Fluticasone propionate 0.25 MG/ACTUAT / salmeterol 0.05 MG/ACTUAT Dry Powder Inhaler"), "Inhale 1 puff twice daily", 1, "puff", "{puff}", 2, false);
    public static readonly MedicationDefinition Naproxen = new(Rx("849574", "Naproxen sodium 220 MG Oral Tablet"), "Take 1 tablet by mouth twice daily as needed for pain", 1, "tablet", "TAB", 2, true);
    public static readonly MedicationDefinition Acetaminophen = new(Rx("313782", "Acetaminophen 325 MG Oral Tablet"), "Take 2 tablets by mouth every 6 hours as needed for pain", 2, "tablet", "TAB", 4, true);
    public static readonly MedicationDefinition Ibuprofen = new(Rx("310965", "Ibuprofen 200 MG Oral Tablet"), "Take 2 tablets by mouth every 8 hours as needed for pain", 2, "tablet", "TAB", 3, true);
    public static readonly MedicationDefinition Amoxicillin = new(Rx("308182", "Amoxicillin 250 MG Oral Capsule"), "Take 2 capsules by mouth three times daily for 10 days", 2, "capsule", "CAP", 3, false);
    public static readonly MedicationDefinition AmoxicillinClavulanate = new(Rx("562251", "Amoxicillin 250 MG / Clavulanate 125 MG Oral Tablet"), "Take 1 tablet by mouth three times daily for 7 days", 1, "tablet", "TAB", 3, false);

    // Conditions.
    public static readonly ConditionDefinition Hypertension = new("hypertension", Sct("59621000", "Essential hypertension (disorder)"), Icd("I10", "Essential (primary) hypertension"), "Essential hypertension");
    public static readonly ConditionDefinition Diabetes = new("diabetes", Sct("44054006", "Diabetes mellitus type 2 (disorder)"), Icd("E11.9", "Type 2 diabetes mellitus without complications"), "Type 2 diabetes mellitus");
    public static readonly ConditionDefinition Prediabetes = new("prediabetes", Sct("15777000", "Prediabetes (finding)"), Icd("R73.03", "Prediabetes"), "Prediabetes");
    public static readonly ConditionDefinition Hyperlipidemia = new("hyperlipidemia", Sct("55822004", "Hyperlipidemia (disorder)"), Icd("E78.5", "Hyperlipidemia, unspecified"), "Hyperlipidemia");
    public static readonly ConditionDefinition Asthma = new("asthma", Sct("195967001", "Asthma (disorder)"), Icd("J45.909", "Unspecified asthma, uncomplicated"), "Asthma");
    public static readonly ConditionDefinition KneeOsteoarthritis = new("osteoarthritis", Sct("239873007", "Osteoarthritis of knee (disorder)"), Icd("M17.9", "Osteoarthritis of knee, unspecified"), "Osteoarthritis of knee");
    public static readonly ConditionDefinition Obesity = new("obesity", Sct("162864005", "Body mass index 30+ - obesity (finding)"), Icd("E66.9", "Obesity, unspecified"), "Obesity");
    public static readonly ConditionDefinition ViralSinusitis = new("sinusitis", Sct("444814009", "Viral sinusitis (disorder)"), Icd("J01.90", "Acute sinusitis, unspecified"), "Viral sinusitis");
    public static readonly ConditionDefinition AcuteBronchitis = new("bronchitis", Sct("10509002", "Acute bronchitis (disorder)"), Icd("J20.9", "Acute bronchitis, unspecified"), "Acute bronchitis");
    public static readonly ConditionDefinition StrepThroat = new("strep", Sct("43878008", "Streptococcal sore throat (disorder)"), Icd("J02.0", "Streptococcal pharyngitis"), "Streptococcal sore throat");
    public static readonly ConditionDefinition AnkleSprain = new("ankle-sprain", Sct("44465007", "Sprain of ankle"), Icd("S93.409A", "Sprain of unspecified ligament of unspecified ankle, initial encounter"), "Sprain of ankle");
    public static readonly ConditionDefinition ChestPain = new("chest-pain", Sct("29857009", "Chest pain (finding)"), Icd("R07.9", "Chest pain, unspecified"), "Chest pain");

    // Vaccines.
    public static readonly VaccineDefinition Influenza = new(Cvx("140", "Influenza, seasonal, injectable, preservative free"));
    public static readonly VaccineDefinition Tdap = new(Cvx("115", "Tdap"));
    public static readonly VaccineDefinition Covid = new(Cvx("208", "SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, preservative free, 30 mcg/0.3mL dose"));
    public static readonly VaccineDefinition Zoster = new(Cvx("187", "zoster vaccine recombinant"));
    public static readonly VaccineDefinition Pneumococcal = new(Cvx("33", "pneumococcal polysaccharide vaccine, 23 valent"));

    // Procedures.
    public static readonly ProcedureDefinition Colonoscopy = new(Sct("73761001", "Colonoscopy (procedure)"), Cpt("45378", "Colonoscopy, flexible; diagnostic"));
    public static readonly ProcedureDefinition Electrocardiogram = new(Sct("29303009", "Electrocardiographic procedure"), Cpt("93000", "Electrocardiogram, routine ECG with at least 12 leads; with interpretation and report"));
    public static readonly ProcedureDefinition Spirometry = new(Sct("127783003", "Spirometry (procedure)"), Cpt("94010", "Spirometry"));
    public static readonly ProcedureDefinition DepressionScreening = new(Sct("171207006", "Depression screening (procedure)"), Cpt("96127", "Brief emotional/behavioral assessment"));
    public static readonly ProcedureDefinition ChestXray = new(Sct("399208008", "Plain chest X-ray (procedure)"), Cpt("71046", "Radiologic examination, chest; 2 views"));
    public static readonly ProcedureDefinition AnkleXray = new(Sct("19490002", "Ankle X-ray"), Cpt("73610", "Radiologic examination, ankle; complete, minimum of 3 views"));

    // Allergies.
    public static readonly AllergyDefinition Penicillin = new(Sct("91936005", "Allergy to penicillin"), AllergyCategory.Medication, Sct("247472004", "Wheal (finding)"), true);
    public static readonly AllergyDefinition Peanuts = new(Sct("91935009", "Allergy to peanuts"), AllergyCategory.Food, Sct("39579001", "Anaphylaxis (disorder)"), true);
    public static readonly AllergyDefinition Shellfish = new(Sct("300913006", "Shellfish allergy"), AllergyCategory.Food, Sct("271807003", "Eruption of skin (disorder)"), false);
    public static readonly AllergyDefinition GrassPollen = new(Sct("418689008", "Allergy to grass pollen"), AllergyCategory.Environment, Sct("76067001", "Sneezing"), false);
    public static readonly AllergyDefinition AnimalDander = new(Sct("232347008", "Dander (animal) allergy"), AllergyCategory.Environment, Sct("49727002", "Cough (finding)"), false);
    public static readonly AllergyDefinition Mould = new(Sct("419474003", "Allergy to mould"), AllergyCategory.Environment, Sct("76067001", "Sneezing"), false);

    public static readonly IReadOnlyList<AllergyDefinition> SharedAllergies = [Penicillin, Peanuts, Shellfish];
    public static readonly IReadOnlyList<AllergyDefinition> OtherAllergies = [GrassPollen, AnimalDander, Mould];

    /// <summary>Chronic conditions a specialist manages; each person has one, held by all three sites.</summary>
    public static readonly IReadOnlyList<ChronicProfile> ManagedConditions =
    [
        new(Hypertension, [Lisinopril, Hydrochlorothiazide], Amlodipine,
            new CarePlanDefinition(Sct("443402002", "Lifestyle education regarding hypertension (procedure)"), "Hypertension care plan",
                [Sct("386463000", "Prescribed activity/exercise education (procedure)"), Sct("226234005", "Healthy diet (regime/therapy)")]),
            new GoalDefinition("Keep systolic blood pressure below 140 mmHg", Systolic, 140)),
        new(Diabetes, [], Metformin,
            new CarePlanDefinition(Sct("698360004", "Diabetes self management plan (record artifact)"), "Diabetes self-management plan",
                [Sct("160670007", "Diabetic diet (finding)"), Sct("229065009", "Exercise therapy (regime/therapy)")]),
            new GoalDefinition("Hemoglobin A1c below 7.0 %", HemoglobinA1c, 7.0m)),
        new(Hyperlipidemia, [Simvastatin], Atorvastatin,
            new CarePlanDefinition(Sct("384758001", "Self-care interventions (procedure)"), "Cholesterol management plan",
                [Sct("226234005", "Healthy diet (regime/therapy)"), Sct("229065009", "Exercise therapy (regime/therapy)")]),
            new GoalDefinition("LDL cholesterol below 100 mg/dL", Ldl, 100)),
        new(Asthma, [Albuterol], FluticasoneSalmeterol,
            new CarePlanDefinition(Sct("699728000", "Asthma self management (regime/therapy)"), "Asthma action plan",
                [Sct("708409001", "Home nebulizer therapy (procedure)")]),
            new GoalDefinition("Asthma symptoms controlled without night waking", null, null)),
    ];

    /// <summary>Other chronic conditions, held by the primary care practice only.</summary>
    public static readonly IReadOnlyList<ChronicProfile> OtherConditions =
    [
        .. ManagedConditions,
        new(KneeOsteoarthritis, [Naproxen], null,
            new CarePlanDefinition(Sct("91251008", "Physical therapy procedure (regime/therapy)"), "Knee osteoarthritis plan",
                [Sct("229065009", "Exercise therapy (regime/therapy)")]),
            new GoalDefinition("Walk 30 minutes a day without knee pain", null, null)),
        new(Obesity, [], null, null, null),
        new(Prediabetes, [], null, null, null),
    ];

    public static readonly IReadOnlyList<(ConditionDefinition Condition, MedicationDefinition? Medication)> AcuteIllnesses =
    [
        (ViralSinusitis, AmoxicillinClavulanate), (AcuteBronchitis, Acetaminophen), (StrepThroat, Amoxicillin),
    ];

    public static readonly IReadOnlyList<(ConditionDefinition Condition, ProcedureDefinition Imaging, MedicationDefinition Medication)> EmergencyVisits =
    [
        (ChestPain, ChestXray, Acetaminophen), (AnkleSprain, AnkleXray, Ibuprofen), (AcuteBronchitis, ChestXray, Acetaminophen),
    ];

    // Visit types (SNOMED, with the CPT code a bill would carry).
    public static readonly ClinicalCode WellnessVisit = Sct("162673000", "General examination of patient (procedure)");
    public static readonly ClinicalCode FollowUpVisit = Sct("390906007", "Follow-up encounter (procedure)");
    public static readonly ClinicalCode SymptomVisit = Sct("185345009", "Encounter for symptom (procedure)");
    public static readonly ClinicalCode ConsultationVisit = Sct("11429006", "Consultation (procedure)");
    public static readonly ClinicalCode EmergencyVisit = Sct("50849002", "Emergency room admission (procedure)");
    public static readonly ClinicalCode VaccinationVisit = Sct("33879002", "Administration of vaccine to produce active immunity (procedure)");
    public static readonly ClinicalCode ProcedureVisit = Sct("371883000", "Outpatient procedure (procedure)");

    public static readonly ClinicalCode PreventiveVisitUnder40 = Cpt("99395", "Periodic comprehensive preventive medicine reevaluation, 18-39 years");
    public static readonly ClinicalCode PreventiveVisit40To64 = Cpt("99396", "Periodic comprehensive preventive medicine reevaluation, 40-64 years");
    public static readonly ClinicalCode PreventiveVisit65Plus = Cpt("99397", "Periodic comprehensive preventive medicine reevaluation, 65 years and older");
    public static readonly ClinicalCode EstablishedOfficeVisit = Cpt("99214", "Office or other outpatient visit, established patient, moderate");
    public static readonly ClinicalCode NewOfficeVisit = Cpt("99204", "Office or other outpatient visit, new patient, moderate");
    public static readonly ClinicalCode EmergencyDepartmentVisit = Cpt("99284", "Emergency department visit, moderate");
    public static readonly ClinicalCode VaccineAdministration = Cpt("90471", "Immunization administration");

    // Document types.
    public static readonly ClinicalCode ProgressNote = Loinc("11506-3", "Progress note");
    public static readonly ClinicalCode ConsultNote = Loinc("11488-4", "Consult note");
    public static readonly ClinicalCode DischargeSummary = Loinc("18842-5", "Discharge summary");
    public static readonly ClinicalCode ProcedureNote = Loinc("28570-0", "Procedure note");

    public static readonly IReadOnlyList<string> FemaleNames =
    [
        "Amelia", "Beatriz", "Claire", "Dolores", "Eleanor", "Fatima", "Grace", "Hannah", "Ingrid", "Julia", "Keiko", "Leticia",
        "Marisol", "Nadia", "Olivia", "Priya", "Rosa", "Sofia", "Tamara", "Vivian", "Wendy", "Yolanda",
    ];

    public static readonly IReadOnlyList<string> MaleNames =
    [
        "Arturo", "Bernard", "Calvin", "Dmitri", "Emmett", "Felix", "Gordon", "Hector", "Isaac", "Jerome", "Kenji", "Lionel",
        "Marcus", "Nolan", "Oscar", "Pedro", "Raymond", "Samuel", "Tobias", "Victor", "Walter", "Xavier",
    ];

    public static readonly IReadOnlyList<string> FamilyNames =
    [
        "Alvarado", "Brennan", "Castillo", "Donnelly", "Eriksen", "Fairbanks", "Gallagher", "Haddad", "Iverson", "Jablonski",
        "Kowalczyk", "Lindqvist", "Marchetti", "Nakamura", "Okafor", "Pemberton", "Quintero", "Rasmussen", "Szabo", "Thornbury",
        "Underwood", "Valdivia", "Whitaker", "Yamamoto", "Zielinski",
    ];

    public static readonly IReadOnlyList<string> MaritalStatuses = ["M", "S", "M", "W", "D"];

    public static readonly IReadOnlyList<string> Streets =
    [
        "Maple Avenue", "Prairie Street", "Lincoln Road", "Sangamon Drive", "Oak Ridge Lane", "Cedar Court", "Meadow View Drive",
        "Washington Street", "Elm Street", "Harvest Lane",
    ];

    public static readonly IReadOnlyList<(string City, string State, string PostalCode)> Places =
    [
        ("Springfield", "IL", "62704"), ("Peoria", "IL", "61604"), ("Champaign", "IL", "61820"), ("Bloomington", "IL", "61701"),
        ("Decatur", "IL", "62521"),
    ];
}
