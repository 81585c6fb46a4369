using System.Globalization;
using static Aggregator.Sandbox.Generator.ClinicalCatalog;

namespace Aggregator.Sandbox.Generator;

/// <summary>
/// Makes one believable person's history as neutral facts: six years of primary care, three years at a specialty
/// clinic and a few hospital visits, with the overlaps real records have (a lab result reported by two providers,
/// the same prescription at two, a condition on three problem lists) and near-misses that must stay apart.
/// Everything is drawn from a <see cref="SeededRandom"/>; nothing reads the clock.
/// </summary>
public static class PersonGenerator
{
    public static readonly DateOnly HistoryStart = new(2019, 7, 1);
    public static readonly DateOnly HistoryEnd = new(2025, 6, 30);

    /// <summary>Home-monitoring readings: what a connected scale and pulse oximeter send to primary care.</summary>
    private static readonly ObservationDefinition[] HomeMonitoring = [HeartRate, OxygenSaturation, BodyWeight];

    public static GeneratedPerson Create(int seed, int number, int homeReadings = 0)
    {
        var key = string.Create(CultureInfo.InvariantCulture, $"g{seed}-{number}");
        var person = new Life(key, SeededRandom.For(seed, key)).Build($"person-{key}");
        return homeReadings > 0 ? new GeneratedPerson(person.PersonId, person.Demographics, [.. person.Facts, .. HomeReadings(seed, key, person, homeReadings)]) : person;
    }

    /// <summary>
    /// <paramref name="count"/> readings spread evenly over the history, each at its own minute, drawn from a random
    /// stream of their own (the rest of the person is the same with or without them).
    /// </summary>
    private static IEnumerable<ObservationFact> HomeReadings(int seed, string key, GeneratedPerson person, int count)
    {
        var random = SeededRandom.For(seed, key + "-home");
        var weight = person.Facts.OfType<ObservationFact>().Where(f => f.Test == BodyWeight && f.Value is not null).Select(f => f.Value!.Value).DefaultIfEmpty(75m).First();
        var start = At(HistoryStart, 0, 0);
        var minutes = (HistoryEnd.DayNumber - HistoryStart.DayNumber) * 24L * 60;
        var here = new Holding(CareSite.PrimaryCare);
        for (var n = 0; n < count; n++)
        {
            var test = HomeMonitoring[n % HomeMonitoring.Length];
            var value = test == HeartRate ? random.Next(58, 96)
                : test == OxygenSaturation ? random.Next(94, 100)
                : weight + random.Between(-2, 2, 1);
            var at = start.AddMinutes(n * minutes / count);
            yield return new ObservationFact(test, value, [], at, at)
            {
                FactId = string.Create(CultureInfo.InvariantCulture, $"{key}-home-{n + 1:00000}"),
                Holdings = [here],
            };
        }
    }

    private static DateTimeOffset At(DateOnly day, int hour, int minute) =>
        new(day.ToDateTime(new TimeOnly(hour, minute)), TimeSpan.Zero);

    private static string Number(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The running state of one person's history while it is written.</summary>
    private sealed class Life(string key, SeededRandom random)
    {
        private readonly List<ClinicalFact> _facts = [];
        private readonly Dictionary<FactCategory, int> _counters = [];
        private readonly Dictionary<ConditionDefinition, string> _recordedConditions = [];
        private Demographics _person = null!;
        private decimal _heightCm;
        private decimal _weightKg;
        private int _systolic;
        private int _diastolic;
        private ChronicProfile _managed = null!;
        private List<ChronicProfile> _chronic = [];
        private int _planCount;

        private bool Has(ConditionDefinition condition) => _chronic.Exists(c => c.Condition == condition);

        public GeneratedPerson Build(string personId)
        {
            _person = MakeDemographics();
            ChooseConditions();
            var wellness = WellnessDays();
            var specialist = SpecialistDays();
            var sharedLabDay = specialist[2];

            // Hospital visits come first so that facts held by two sites can name both visits.
            var emergency = Reserve(FactCategory.Encounters);
            var firstWellness = Reserve(FactCategory.Encounters);
            var consult = Reserve(FactCategory.Encounters);

            for (var i = 0; i < wellness.Count; i++)
            {
                WellnessVisit(wellness[i], i, wellness.Count, i == 0 ? firstWellness : null, emergency);
            }

            FollowUps(wellness);
            AcuteVisits(wellness, specialist);
            var shared = SpecialistCare(specialist, consult);
            EmergencyVisit(emergency, sharedLabDay, shared);
            HospitalVaccinations();
            Colonoscopy();
            PrimaryCareVaccinations(wellness, firstWellness);
            return new GeneratedPerson(personId, _person, [.. _facts]);
        }

        private Demographics MakeDemographics()
        {
            var gender = random.Chance(50) ? Gender.Female : Gender.Male;
            var given = random.Pick(gender == Gender.Female ? FemaleNames : MaleNames);
            var family = random.Pick(FamilyNames);
            var birth = new DateOnly(random.Next(1948, 1989), random.Next(1, 13), random.Next(1, 29));
            var place = random.Pick(Places);
            var street = string.Create(CultureInfo.InvariantCulture, $"{random.Next(100, 9900)} {random.Pick(Streets)}");
            var phone = string.Create(CultureInfo.InvariantCulture, $"217-555-01{random.Next(0, 100):00}");
            _heightCm = gender == Gender.Female ? random.Between(152, 176, 1) : random.Between(165, 191, 1);
            return new Demographics(given, family, gender, birth, street, place.City, place.State, place.PostalCode, phone,
                random.Pick(MaritalStatuses));
        }

        private void ChooseConditions()
        {
            _managed = random.Pick(ManagedConditions);
            _chronic = [_managed];
            var others = OtherConditions.Where(c => c.Condition != _managed.Condition).ToList();
            for (var n = random.Next(1, 3); n > 0 && others.Count > 0; n--)
            {
                var pick = random.Pick(others);
                others.Remove(pick);
                _chronic.Add(pick);
            }

            if (Has(Diabetes))
            {
                _chronic.RemoveAll(c => c.Condition == Prediabetes);
            }

            var bmi = Has(Obesity) ? random.Between(31, 36, 1) : random.Between(22, 29.5m, 1);
            _weightKg = Math.Round(bmi * _heightCm * _heightCm / 10_000m, 1);
            _systolic = Has(Hypertension) ? random.Next(136, 151) : random.Next(110, 127);
            _diastolic = Has(Hypertension) ? random.Next(84, 95) : random.Next(68, 80);
        }

        private List<DateOnly> WellnessDays()
        {
            var days = new List<DateOnly>();
            for (var year = HistoryStart.Year; year <= HistoryEnd.Year; year++)
            {
                var day = new DateOnly(year, _person.BirthDate.Month, Math.Min(_person.BirthDate.Day, 28));
                if (day >= HistoryStart && day <= HistoryEnd)
                {
                    days.Add(day);
                }
            }

            return days;
        }

        private List<DateOnly> SpecialistDays()
        {
            var days = new List<DateOnly>();
            for (var day = HistoryEnd.AddMonths(-36 + random.Next(0, 4)); day <= HistoryEnd; day = day.AddMonths(6).AddDays(random.Next(0, 15)))
            {
                days.Add(day);
            }

            return days;
        }

        private void WellnessVisit(DateOnly day, int index, int count, string? reservedId, string emergencyId)
        {
            var start = At(day, 14, random.Next(0, 45));
            var encounter = AddEncounter(CareSite.PrimaryCare, EncounterKind.Wellness, start, 40, null, reservedId);
            var here = new Holding(CareSite.PrimaryCare, encounter);
            var vitalsAt = start.AddMinutes(8);
            var (systolic, diastolic, weight) = Vitals();
            Observe(BodyHeight, _heightCm, vitalsAt, vitalsAt, here);
            Observe(BodyWeight, weight, vitalsAt, vitalsAt, here);
            Observe(BodyMassIndex, Math.Round(weight * 10_000m / (_heightCm * _heightCm), 1), vitalsAt, vitalsAt, here);
            BloodPressure(systolic, diastolic, vitalsAt, here);
            Observe(HeartRate, random.Next(62, 89), vitalsAt, vitalsAt, here);

            var drawn = start.AddMinutes(30);
            var resulted = At(day.AddDays(1), 15, random.Next(0, 59));
            Panel(MetabolicPanel, drawn, resulted, here);
            if (index % 2 == 0)
            {
                Panel(LipidPanel, drawn, resulted, here);
            }

            if (Has(Diabetes) || Has(Prediabetes))
            {
                Panel(A1cReport, drawn, resulted, here);
            }

            if (index == 0 || index == count - 1)
            {
                Panel(BloodCount, drawn, resulted, here);
            }

            foreach (var profile in _chronic.Where(c => !_recordedConditions.ContainsKey(c.Condition)))
            {
                RecordChronicCondition(profile, day, start.AddMinutes(20), encounter, emergencyId, index);
            }

            if (index == 0)
            {
                var allergy = random.Pick(SharedAllergies);
                Add(new AllergyFact(allergy, start.AddMinutes(5))
                {
                    FactId = Reserve(FactCategory.Allergies),
                    Holdings = [here, new Holding(CareSite.Hospital, emergencyId)],
                });
                if (random.Chance(50))
                {
                    Add(new AllergyFact(random.Pick(OtherAllergies), start.AddMinutes(6)) { FactId = Reserve(FactCategory.Allergies), Holdings = [here] });
                }
            }

            if (index >= count - 3)
            {
                AddProcedure(DepressionScreening, start.AddMinutes(25), 5, null, here);
            }

            if (index >= count - 4)
            {
                var problems = string.Join("; ", _chronic.Select(c => c.Condition.Text));
                AddDocument(ProgressNote, start.AddMinutes(40), "Annual wellness visit", string.Create(CultureInfo.InvariantCulture,
                    $"Annual wellness visit on {day:yyyy-MM-dd}.\nVitals: blood pressure {systolic}/{diastolic} mmHg, weight {Number(weight)} kg.\nActive problems: {problems}.\nPlan: continue current medicines, fasting labs today, return in 12 months.\n"),
                    DocumentDelivery.Inline, here);
            }
        }

        private void RecordChronicCondition(ChronicProfile profile, DateOnly visitDay, DateTimeOffset recorded, string encounter, string emergencyId, int visitIndex)
        {
            var isManaged = profile == _managed;
            var onset = isManaged
                ? HistoryStart.AddMonths(-random.Next(6, 60))
                : visitIndex == 0 && random.Chance(60) ? HistoryStart.AddMonths(-random.Next(3, 48)) : visitDay.AddDays(-random.Next(20, 200));
            if (!isManaged && onset > visitDay)
            {
                return;
            }

            // Conditions that began during the history are found at a later visit.
            if (!isManaged && visitIndex == 0 && onset > HistoryStart && !random.Chance(50))
            {
                return;
            }

            var holdings = new List<Holding> { new(CareSite.PrimaryCare, encounter) };
            if (isManaged)
            {
                holdings.Add(new Holding(CareSite.Specialty, null));
                holdings.Add(new Holding(CareSite.Hospital, emergencyId));
            }

            var conditionId = Reserve(FactCategory.Conditions);
            _recordedConditions[profile.Condition] = conditionId;
            Add(new ConditionFact(profile.Condition, onset, null, recorded, Chronic: true) { FactId = conditionId, Holdings = holdings });

            var here = new Holding(CareSite.PrimaryCare, encounter);
            foreach (var medication in profile.Medications)
            {
                // A statin the specialist replaces later is stopped then.
                var status = medication == Simvastatin && _managed.SpecialistMedication == Atorvastatin ? MedicationStatus.Stopped : MedicationStatus.Active;
                Add(new MedicationFact(medication, recorded.AddMinutes(10), status, conditionId) { FactId = Reserve(FactCategory.Medications), Holdings = [here] });
            }

            if (profile.CarePlan is { } plan && _planCount < 2)
            {
                _planCount++;
                AddPlan(plan, profile.Goal, visitDay, recorded.AddMinutes(12), conditionId, here);
            }
        }

        private void AddPlan(CarePlanDefinition plan, GoalDefinition? goal, DateOnly start, DateTimeOffset recorded, string conditionId, Holding here)
        {
            var goals = new List<string>();
            if (goal is not null)
            {
                var goalId = Reserve(FactCategory.Goals);
                goals.Add(goalId);
                Add(new GoalFact(goal, start, start.AddMonths(6), conditionId, recorded) { FactId = goalId, Holdings = [here] });
            }

            Add(new CarePlanFact(plan, start, [conditionId], goals, recorded.AddMinutes(1)) { FactId = Reserve(FactCategory.CarePlans), Holdings = [here] });
        }

        private void FollowUps(List<DateOnly> wellness)
        {
            foreach (var day in wellness.TakeLast(3).Select(d => d.AddMonths(6)).Where(d => d <= HistoryEnd))
            {
                var start = At(day, 15, random.Next(0, 50));
                var here = new Holding(CareSite.PrimaryCare, AddEncounter(CareSite.PrimaryCare, EncounterKind.FollowUp, start, 20, _recordedConditions[_managed.Condition]));
                var (systolic, diastolic, weight) = Vitals();
                BloodPressure(systolic, diastolic, start.AddMinutes(5), here);
                Observe(BodyWeight, weight, start.AddMinutes(5), start.AddMinutes(5), here);
            }
        }

        private void AcuteVisits(List<DateOnly> wellness, List<DateOnly> specialist)
        {
            var busy = wellness.Concat(specialist).ToList();
            var illnesses = AcuteIllnesses.ToList();
            for (var n = 0; n < 2; n++)
            {
                DateOnly day;
                do
                {
                    day = HistoryStart.AddDays(random.Next(30, HistoryEnd.DayNumber - HistoryStart.DayNumber - 30));
                }
                while (busy.Exists(b => Math.Abs(b.DayNumber - day.DayNumber) < 20));

                busy.Add(day);
                var illness = random.Pick(illnesses);
                illnesses.Remove(illness);
                var start = At(day, 16, random.Next(0, 50));
                var conditionId = Reserve(FactCategory.Conditions);
                var here = new Holding(CareSite.PrimaryCare, AddEncounter(CareSite.PrimaryCare, EncounterKind.Symptom, start, 20, conditionId));
                Add(new ConditionFact(illness.Condition, day.AddDays(-random.Next(2, 6)), day.AddDays(random.Next(10, 21)), start.AddMinutes(15), Chronic: false)
                {
                    FactId = conditionId,
                    Holdings = [here],
                });
                Observe(BodyTemperature, random.Between(37.2m, 38.6m, 1), start.AddMinutes(4), start.AddMinutes(4), here);
                Observe(HeartRate, random.Next(76, 104), start.AddMinutes(4), start.AddMinutes(4), here);
                if (illness.Medication is { } medication)
                {
                    Add(new MedicationFact(medication, start.AddMinutes(18), MedicationStatus.Completed, conditionId)
                    {
                        FactId = Reserve(FactCategory.Medications),
                        Holdings = [here],
                    });
                }

                AddDocument(ProgressNote, start.AddMinutes(20), $"Visit for {illness.Condition.Text.ToLowerInvariant()}", string.Create(CultureInfo.InvariantCulture,
                    $"Seen on {day:yyyy-MM-dd} for {illness.Condition.Text.ToLowerInvariant()}.\nSymptoms for a few days; no distress.\nPlan: {(illness.Medication is null ? "rest and fluids" : illness.Medication.RxNorm.Display)}; return if not improving.\n"),
                    DocumentDelivery.Inline, here);
            }
        }

        /// <summary>The specialty clinic's visits; returns the facts the hospital's near-misses resemble.</summary>
        private (string Glucose, string Prescription, decimal GlucoseValue) SpecialistCare(List<DateOnly> days, string consultId)
        {
            string glucose = "", prescription = "";
            decimal glucoseValue = 0;
            var managedConditionId = _recordedConditions[_managed.Condition];
            for (var i = 0; i < days.Count; i++)
            {
                var start = At(days[i], 13, random.Next(0, 30));
                var kind = i == 0 ? EncounterKind.Consultation : EncounterKind.SpecialistFollowUp;
                var encounter = AddEncounter(CareSite.Specialty, kind, start, 30, managedConditionId, i == 0 ? consultId : null);
                var here = new Holding(CareSite.Specialty, encounter);
                var (systolic, diastolic, weight) = Vitals();
                BloodPressure(systolic, diastolic, start.AddMinutes(5), here);
                Observe(BodyWeight, weight, start.AddMinutes(5), start.AddMinutes(5), here);
                if (i == 0)
                {
                    AttachManagedCondition(managedConditionId, encounter);
                    AddProcedure(_managed.Condition == Asthma ? Spirometry : Electrocardiogram, start.AddMinutes(12), 10, managedConditionId, here);
                    AddPlan(_managed.CarePlan!, _managed.Goal, days[i], start.AddMinutes(28), managedConditionId, here);
                    AddDocument(ConsultNote, start.AddMinutes(30), $"Consultation: {_managed.Condition.Text}", string.Create(CultureInfo.InvariantCulture,
                        $"Consultation on {days[i]:yyyy-MM-dd} for {_managed.Condition.Text.ToLowerInvariant()}, referred by primary care.\nBlood pressure {systolic}/{diastolic} mmHg, weight {Number(weight)} kg.\nPlan: adjust treatment at the next visit; labs in six months.\n"),
                        DocumentDelivery.Binary, here);
                }

                if (i is 0 or 4)
                {
                    var panel = _managed.Condition == Diabetes ? A1cReport : _managed.Condition == Hyperlipidemia ? LipidPanel : MetabolicPanel;
                    Panel(panel, start.AddMinutes(20), start.AddHours(4), here);
                }

                if (i == 1)
                {
                    // The same prescription, in the specialist's record and in the primary care medicine list.
                    prescription = Reserve(FactCategory.Medications);
                    Add(new MedicationFact(_managed.SpecialistMedication!, start.AddMinutes(25), MedicationStatus.Active, managedConditionId)
                    {
                        FactId = prescription,
                        Holdings = [here, new Holding(CareSite.PrimaryCare)],
                    });
                }

                if (i == 2)
                {
                    // One fasting glucose, reported to primary care too (mg/dL there, g/L here); an HbA1c the same day is another fact.
                    glucoseValue = LabValue(Glucose);
                    glucose = Reserve(FactCategory.Labs);
                    Add(new ObservationFact(Glucose, glucoseValue, [], start.AddMinutes(15), start.AddHours(3))
                    {
                        FactId = glucose,
                        Holdings = [here, new Holding(CareSite.PrimaryCare)],
                    });
                    Add(new ObservationFact(HemoglobinA1c, LabValue(HemoglobinA1c), [], start.AddMinutes(15), start.AddHours(3))
                    {
                        FactId = Reserve(FactCategory.Labs),
                        Holdings = [here],
                        NearMissOf = glucose,
                    });
                }

                if (i == days.Count - 1)
                {
                    AddDocument(ProgressNote, start.AddMinutes(30), "Specialist follow-up", string.Create(CultureInfo.InvariantCulture,
                        $"Follow-up on {days[i]:yyyy-MM-dd} for {_managed.Condition.Text.ToLowerInvariant()}.\nTolerating {_managed.SpecialistMedication!.RxNorm.Display}.\nPlan: continue; return in six months.\n"),
                        DocumentDelivery.Binary, here);
                }
            }

            return (glucose, prescription, glucoseValue);
        }

        private void AttachManagedCondition(string conditionId, string consultEncounter)
        {
            var index = _facts.FindIndex(f => f.FactId == conditionId);
            var condition = _facts[index];
            _facts[index] = condition with
            {
                Holdings = [.. condition.Holdings.Select(h => h.Site == CareSite.Specialty ? h with { EncounterFactId = consultEncounter } : h)],
            };
        }

        private void EmergencyVisit(string encounterId, DateOnly day, (string Glucose, string Prescription, decimal GlucoseValue) shared)
        {
            var visit = random.Pick(EmergencyVisits);
            var start = At(day, 19, random.Next(0, 30));
            var conditionId = Reserve(FactCategory.Conditions);
            AddEncounter(CareSite.Hospital, EncounterKind.Emergency, start, 240, conditionId, encounterId);
            var here = new Holding(CareSite.Hospital, encounterId);
            Add(new ConditionFact(visit.Condition, day, day.AddDays(14), start.AddMinutes(40), Chronic: false) { FactId = conditionId, Holdings = [here] });

            var vitalsAt = start.AddMinutes(10);
            var (systolic, diastolic, weight) = Vitals();
            // The hospital weighs in pounds; the discharge summary carries the weight to primary care, in kg there.
            Add(new ObservationFact(BodyWeight, weight, [], vitalsAt, vitalsAt)
            {
                FactId = Reserve(FactCategory.Vitals),
                Holdings = [here, new Holding(CareSite.PrimaryCare)],
            });
            BloodPressure(systolic + 8, diastolic + 4, vitalsAt, here);
            Observe(HeartRate, random.Next(80, 110), vitalsAt, vitalsAt, here);
            Observe(BodyTemperature, random.Between(36.6m, 37.6m, 1), vitalsAt, vitalsAt, here);
            Observe(OxygenSaturation, random.Next(94, 100), vitalsAt, vitalsAt, here);

            // Same test, same day as the specialist's glucose, another value: a near-miss.
            var drawn = start.AddMinutes(30);
            var resulted = start.AddMinutes(90);
            var emergencyGlucose = shared.GlucoseValue + (random.Chance(50) ? 1 : -1) * random.Next(12, 35);
            var results = new List<string>
            {
                Add(new ObservationFact(Glucose, emergencyGlucose, [], drawn, resulted)
                {
                    FactId = Reserve(FactCategory.Labs),
                    Holdings = [here],
                    NearMissOf = shared.Glucose,
                }),
            };
            results.AddRange(MetabolicPanel.Tests.Skip(1).Select(test => Observe(test, LabValue(test), drawn, resulted, here)));
            Add(new DiagnosticReportFact(MetabolicPanel, drawn, resulted, results) { FactId = Reserve(FactCategory.DiagnosticReports), Holdings = [here] });

            AddProcedure(visit.Imaging, start.AddMinutes(60), 15, conditionId, here);
            Add(new MedicationFact(visit.Medication, start.AddMinutes(200), MedicationStatus.Completed, conditionId)
            {
                FactId = Reserve(FactCategory.Medications),
                Holdings = [here],
            });
            // The discharge renews the specialist's medicine: same drug, another date.
            Add(new MedicationFact(_managed.SpecialistMedication!, start.AddMinutes(205), MedicationStatus.Active, _recordedConditions[_managed.Condition])
            {
                FactId = Reserve(FactCategory.Medications),
                Holdings = [here],
                NearMissOf = shared.Prescription,
            });
            AddDocument(DischargeSummary, start.AddMinutes(235), "Emergency department discharge summary", string.Create(CultureInfo.InvariantCulture,
                $"Emergency department visit on {day:yyyy-MM-dd} for {visit.Condition.Text.ToLowerInvariant()}.\nWeight {Number(Math.Round(weight * 2.20462262m, 1))} lb, blood pressure {systolic + 8}/{diastolic + 4} mmHg.\nImaging: {visit.Imaging.Snomed.Display}. Discharged home on {visit.Medication.RxNorm.Display}; continue {_managed.SpecialistMedication!.RxNorm.Display}.\n"),
                DocumentDelivery.Binary, here);
        }

        private void HospitalVaccinations()
        {
            var first = new DateOnly(2021, 4, random.Next(5, 20));
            foreach (var day in new[] { first, first.AddDays(21) })
            {
                Vaccinate(Covid, At(day, 17, random.Next(0, 50)), shareWithPrimaryCare: false);
            }

            Vaccinate(Influenza, At(new DateOnly(2021, 10, random.Next(5, 26)), 18, random.Next(0, 50)), shareWithPrimaryCare: false);
            // The latest flu shot, given at the hospital's clinic and reported to primary care.
            Vaccinate(Influenza, At(new DateOnly(2024, 10, random.Next(5, 26)), 18, random.Next(0, 50)), shareWithPrimaryCare: true);
        }

        private void Vaccinate(VaccineDefinition vaccine, DateTimeOffset start, bool shareWithPrimaryCare)
        {
            var here = new Holding(CareSite.Hospital, AddEncounter(CareSite.Hospital, EncounterKind.Vaccination, start, 15, null));
            Add(new ImmunizationFact(vaccine, start.AddMinutes(5), Lot())
            {
                FactId = Reserve(FactCategory.Immunizations),
                Holdings = shareWithPrimaryCare ? [here, new Holding(CareSite.PrimaryCare)] : [here],
            });
        }

        private void Colonoscopy()
        {
            if (random.Chance(40) && _person.BirthDate.Year > 1975)
            {
                return;
            }

            var start = At(new DateOnly(2022, random.Next(1, 13), random.Next(1, 28)), 15, random.Next(0, 30));
            var here = new Holding(CareSite.Hospital, AddEncounter(CareSite.Hospital, EncounterKind.Procedure, start, 90, null));
            AddProcedure(ClinicalCatalog.Colonoscopy, start.AddMinutes(20), 35, null, here);
            AddDocument(ProcedureNote, start.AddMinutes(80), "Colonoscopy report", string.Create(CultureInfo.InvariantCulture,
                $"Screening colonoscopy on {start:yyyy-MM-dd}.\nPreparation good; cecum reached. No polyps seen.\nRecommendation: repeat in 10 years.\n"),
                DocumentDelivery.Inline, here);
        }

        private void PrimaryCareVaccinations(List<DateOnly> wellness, string firstWellness)
        {
            foreach (var year in new[] { 2019, 2020, 2022, 2023 })
            {
                Add(new ImmunizationFact(Influenza, At(new DateOnly(year, 10, random.Next(5, 26)), 16, random.Next(0, 50)), Lot())
                {
                    FactId = Reserve(FactCategory.Immunizations),
                    Holdings = [new Holding(CareSite.PrimaryCare)],
                });
            }

            var first = wellness[0];
            var at = new Holding(CareSite.PrimaryCare, firstWellness);
            Add(new ImmunizationFact(Tdap, At(first, 14, 50), Lot()) { FactId = Reserve(FactCategory.Immunizations), Holdings = [at] });
            if (_person.BirthDate.Year <= 1970)
            {
                Add(new ImmunizationFact(Zoster, At(first, 14, 52), Lot()) { FactId = Reserve(FactCategory.Immunizations), Holdings = [at] });
            }

            if (_person.BirthDate.Year <= 1958)
            {
                Add(new ImmunizationFact(Pneumococcal, At(first, 14, 54), Lot()) { FactId = Reserve(FactCategory.Immunizations), Holdings = [at] });
            }
        }

        private (int Systolic, int Diastolic, decimal Weight) Vitals()
        {
            _weightKg = Math.Round(_weightKg + random.Between(-1.5m, 1.5m, 1), 1);
            return (_systolic + random.Next(-6, 7), _diastolic + random.Next(-4, 5), _weightKg);
        }

        private decimal LabValue(ObservationDefinition test)
        {
            var (min, max) = test.Key switch
            {
                "glucose" => Has(Diabetes) ? (128m, 178m) : Has(Prediabetes) ? (100m, 120m) : (78m, 96m),
                "hba1c" => Has(Diabetes) ? (6.8m, 8.4m) : Has(Prediabetes) ? (5.7m, 6.3m) : (4.9m, 5.5m),
                "cholesterol" => Has(Hyperlipidemia) ? (212m, 262m) : (158m, 196m),
                "ldl" => Has(Hyperlipidemia) ? (138m, 176m) : (78m, 124m),
                "hdl" => (36m, 66m),
                "triglycerides" => Has(Hyperlipidemia) ? (158m, 240m) : (78m, 146m),
                "creatinine" => (0.72m, 1.18m),
                "sodium" => (137m, 143m),
                "potassium" => (3.7m, 4.8m),
                "hemoglobin" => _person.Gender == Gender.Female ? (12.2m, 14.8m) : (13.6m, 16.4m),
                "wbc" => (4.8m, 9.6m),
                "platelets" => (170m, 360m),
                _ => throw new InvalidOperationException($"No value range for {test.Key}."),
            };
            return random.Between(min, max, test.Decimals);
        }

        private void Panel(PanelDefinition panel, DateTimeOffset drawn, DateTimeOffset resulted, Holding here)
        {
            var results = panel.Tests.Select(test => Observe(test, LabValue(test), drawn, resulted, here)).ToList();
            Add(new DiagnosticReportFact(panel, drawn, resulted, results) { FactId = Reserve(FactCategory.DiagnosticReports), Holdings = [here] });
        }

        private string Observe(ObservationDefinition test, decimal value, DateTimeOffset effective, DateTimeOffset issued, Holding here) =>
            Add(new ObservationFact(test, value, [], effective, issued)
            {
                FactId = Reserve(test.Kind == ObservationKind.Laboratory ? FactCategory.Labs : FactCategory.Vitals),
                Holdings = [here],
            });

        private void BloodPressure(int systolic, int diastolic, DateTimeOffset at, Holding here) =>
            Add(new ObservationFact(ClinicalCatalog.BloodPressure, null, [new ComponentValue(Systolic, systolic), new ComponentValue(Diastolic, diastolic)], at, at)
            {
                FactId = Reserve(FactCategory.Vitals),
                Holdings = [here],
            });

        private string AddEncounter(CareSite site, EncounterKind kind, DateTimeOffset start, int minutes, string? reasonFactId, string? reservedId = null) =>
            Add(new EncounterFact(kind, start, start.AddMinutes(minutes), reasonFactId)
            {
                FactId = reservedId ?? Reserve(FactCategory.Encounters),
                Holdings = [new Holding(site)],
            });

        private void AddProcedure(ProcedureDefinition procedure, DateTimeOffset start, int minutes, string? reasonFactId, Holding here) =>
            Add(new ProcedureFact(procedure, start, start.AddMinutes(minutes), reasonFactId) { FactId = Reserve(FactCategory.Procedures), Holdings = [here] });

        private void AddDocument(ClinicalCode type, DateTimeOffset date, string title, string text, DocumentDelivery delivery, Holding here) =>
            Add(new DocumentFact(type, date, title, text, delivery) { FactId = Reserve(FactCategory.Documents), Holdings = [here] });

        private string Lot() => string.Create(CultureInfo.InvariantCulture, $"{(char)('A' + random.Next(0, 26))}{(char)('A' + random.Next(0, 26))}{random.Next(1000, 10000)}");

        private string Reserve(FactCategory category)
        {
            var next = _counters.GetValueOrDefault(category) + 1;
            _counters[category] = next;
            return string.Create(CultureInfo.InvariantCulture, $"{key}-{category.Slug()}-{next:000}");
        }

        private string Add(ClinicalFact fact)
        {
            _facts.Add(fact);
            return fact.FactId;
        }
    }
}
