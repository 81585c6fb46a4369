using System.Text;
using System.Text.Json.Nodes;
using Aggregator.Sandbox.Tests.Hosting;
using static Aggregator.Sandbox.Tests.Generator.FactStatement;

namespace Aggregator.Sandbox.Tests.Generator;

/// <summary>The generated people of the shared sandbox (seed 42, three people), read over HTTP as an app sees them.</summary>
public sealed class GeneratedPeopleTests(SamplesSandbox sandbox)
{
    private const string Loinc = "http://loinc.org";
    private const string Snomed = "http://snomed.info/sct";
    private const string Icd10Cm = "http://hl7.org/fhir/sid/icd-10-cm";

    private static readonly BaseName NextgenR4 = new("nextgen", "R4");
    private static readonly BaseName NextgenDstu2 = new("nextgen", "DSTU2");

    public static TheoryData<int> People => [1, 2, 3];

    [Fact]
    public async Task Each_generated_person_has_a_portal_login_at_every_persona_under_one_person_id()
    {
        var generated = (await sandbox.Server.TestPatientsAsync()).Where(p => p.Source == "generated").ToList();

        var people = generated.GroupBy(p => p.PersonId).ToList();
        Assert.Equal(SamplesSandbox.GeneratedPeople, people.Count);
        foreach (var person in people)
        {
            Assert.Equal(
                new[] { "cerner/R4", "epic/R4", "nextgen/DSTU2", "nextgen/R4" },
                person.Select(p => $"{p.Persona}/{p.FhirVersion}").Order(StringComparer.Ordinal));
            Assert.Single(person.Select(p => p.Name).Distinct());
            Assert.Equal(3, person.Select(p => p.PatientId).Distinct().Count());
        }

        var patient = generated.First(p => p.Persona == "epic");
        using var client = await sandbox.Server.PatientClientAsync("epic", "r4", patient.PatientId);
        var served = await client.GetJsonAsync(new Uri(sandbox.Server.FhirBase("epic", "r4"), $"Patient/{patient.PatientId}"));
        Assert.Equal(patient.Name, $"{served["name"]![0]!["given"]![0]} {served["name"]![0]!["family"]}");
    }

    [Theory]
    [MemberData(nameof(People))]
    public async Task The_R4_and_DSTU2_renderings_of_a_person_state_the_same_facts(int person)
    {
        var records = await GeneratedRecords.LoadAsync(sandbox, person);

        var pairs = records.Overlap.Facts
            .Select(f => (Fact: f, R4: f.Resources.SingleOrDefault(r => r.Persona == "nextgen" && r.FhirVersion == "R4"),
                Dstu2: f.Resources.SingleOrDefault(r => r.Persona == "nextgen" && r.FhirVersion == "DSTU2")))
            .Where(p => p.R4 is not null || p.Dstu2 is not null)
            .ToList();

        Assert.True(pairs.Count > 100, $"Only {pairs.Count} facts at nextgen.");
        Assert.All(pairs, p => Assert.True(p.R4 is not null && p.Dstu2 is not null, $"{p.Fact.FactId} is rendered in one version only."));
        foreach (var (fact, r4, dstu2) in pairs)
        {
            Assert.Equal(Of(records.Resource(r4!)), Of(records.Resource(dstu2!)));
        }

        Assert.Equal(12, pairs.Select(p => p.Fact.Category).Distinct().Count());
        var order = pairs.Single(p => p.Fact.Category == "medications" && p.Fact.Kind == "shared").Dstu2!;
        Assert.Equal("MedicationOrder", order.ResourceType);
        Assert.Equal("Patient/" + records.Patients[NextgenDstu2].PatientId, (string?)records.Resource(order)["patient"]!["reference"]);
    }

    [Theory]
    [MemberData(nameof(People))]
    public async Task Every_clinical_resource_of_a_generated_person_is_in_exactly_one_fact(int person)
    {
        var records = await GeneratedRecords.LoadAsync(sandbox, person);

        var inFacts = records.Overlap.Facts.SelectMany(f => f.Resources).Select(r => $"{r.Persona}/{r.FhirVersion}/{r.ResourceType}/{r.ResourceId}").ToList();
        var served = records.Resources.SelectMany(b => b.Value.Keys.Select(reference => $"{b.Key.Persona}/{b.Key.FhirVersion}/{reference}")).ToList();

        Assert.Equal(inFacts.Count, inFacts.Distinct().Count());
        Assert.Equal(served.Order(StringComparer.Ordinal), inFacts.Order(StringComparer.Ordinal));
        Assert.All(records.Overlap.Facts, f => Assert.Contains(f.Kind, new[] { "shared", "single", "near-miss" }));
        Assert.All(records.Overlap.Facts, f => Assert.Equal(f.Kind == "near-miss", f.NearMissOf is not null));
    }

    [Theory]
    [MemberData(nameof(People))]
    public async Task A_lab_and_a_weight_reported_by_two_providers_agree_in_convertible_units(int person)
    {
        var records = await GeneratedRecords.LoadAsync(sandbox, person);

        var lab = Shared(records, "labs");
        var milligrams = records.Resource(lab.Resources.Single(r => r.Persona == "nextgen" && r.FhirVersion == "R4"));
        var grams = records.Resource(lab.Resources.Single(r => r.Persona == "epic"));
        Assert.Equal(("mg/dL", "g/L"), (Unit(milligrams), Unit(grams)));
        Assert.Equal(Value(milligrams), Value(grams) * 100);
        Assert.Equal(Codings(milligrams["code"]), Codings(grams["code"]));
        Assert.Equal(Text(milligrams["effectiveDateTime"]), Text(grams["effectiveDateTime"]));
        Assert.Equal((decimal)milligrams["referenceRange"]![0]!["high"]!["value"]!, (decimal)grams["referenceRange"]![0]!["high"]!["value"]! * 100);

        var vital = Shared(records, "vitals");
        var kilograms = records.Resource(vital.Resources.Single(r => r.Persona == "nextgen" && r.FhirVersion == "R4"));
        var pounds = records.Resource(vital.Resources.Single(r => r.Persona == "cerner"));
        Assert.Equal(("kg", "[lb_av]"), (Unit(kilograms), Unit(pounds)));
        Assert.Equal(("29463-7", "29463-7"), (Codings(kilograms["code"]).Single().Code, Codings(pounds["code"]).Single().Code));
        Assert.InRange(Value(pounds) - (Value(kilograms) * 2.20462262m), -0.06m, 0.06m);
    }

    [Theory]
    [MemberData(nameof(People))]
    public async Task A_shared_condition_is_SNOMED_at_one_provider_and_ICD10CM_at_another_with_one_text(int person)
    {
        var records = await GeneratedRecords.LoadAsync(sandbox, person);

        var condition = Shared(records, "conditions");
        var nextgen = records.Resource(condition.Resources.Single(r => r.Persona == "nextgen" && r.FhirVersion == "R4"));
        var epic = records.Resource(condition.Resources.Single(r => r.Persona == "epic"));
        var cerner = records.Resource(condition.Resources.Single(r => r.Persona == "cerner"));

        Assert.Equal(Snomed, Codings(nextgen["code"]).Single().System);
        Assert.Equal(Icd10Cm, Codings(epic["code"]).Single().System);
        Assert.Equal(new[] { Icd10Cm, Snomed }, Codings(cerner["code"]).Select(c => c.System).Order(StringComparer.Ordinal));
        Assert.Single(new[] { nextgen, epic, cerner }.Select(c => Text(c["code"]!["text"])).Distinct());
        Assert.Single(new[] { nextgen, epic, cerner }.Select(c => Text(c["onsetDateTime"])).Distinct());
    }

    [Theory]
    [MemberData(nameof(People))]
    public async Task A_shared_prescription_immunization_and_allergy_carry_the_same_code_and_date_at_each_provider(int person)
    {
        var records = await GeneratedRecords.LoadAsync(sandbox, person);

        var prescriptions = Shared(records, "medications").Resources.Where(r => r.FhirVersion == "R4").Select(records.Resource).ToList();
        Assert.Equal(2, prescriptions.Count);
        Assert.Single(prescriptions.Select(p => Codings(p["medicationCodeableConcept"]).Single()).Distinct());
        Assert.Equal("http://www.nlm.nih.gov/research/umls/rxnorm", Codings(prescriptions[0]["medicationCodeableConcept"]).Single().System);
        Assert.Single(prescriptions.Select(p => Text(p["authoredOn"])).Distinct());

        var shots = Shared(records, "immunizations").Resources.Where(r => r.FhirVersion == "R4").Select(records.Resource).ToList();
        Assert.Equal(2, shots.Count);
        Assert.Single(shots.Select(s => Codings(s["vaccineCode"]).Single()).Distinct());
        Assert.Equal("http://hl7.org/fhir/sid/cvx", Codings(shots[0]["vaccineCode"]).Single().System);
        Assert.Single(shots.Select(s => Text(s["occurrenceDateTime"])).Distinct());

        var allergies = Shared(records, "allergies").Resources.Where(r => r.FhirVersion == "R4").Select(records.Resource).ToList();
        Assert.Equal(2, allergies.Count);
        Assert.Single(allergies.Select(a => Codings(a["code"]).Single()).Distinct());
    }

    [Theory]
    [MemberData(nameof(People))]
    public async Task Near_misses_resemble_another_fact_but_differ_from_it(int person)
    {
        var records = await GeneratedRecords.LoadAsync(sandbox, person);
        var facts = records.Overlap.Facts.ToDictionary(f => f.FactId);

        var nearMisses = records.Overlap.Facts.Where(f => f.Kind == "near-miss").ToList();

        Assert.Equal(3, nearMisses.Count);
        var sameTestOtherValue = 0;
        var otherTestSameDay = 0;
        foreach (var nearMiss in nearMisses)
        {
            var look = records.Resource(nearMiss.Resources.First(r => r.FhirVersion == "R4"));
            var original = records.Resource(facts[nearMiss.NearMissOf!].Resources.First(r => r.Persona == "nextgen" && r.FhirVersion == "R4"));
            if (nearMiss.Category == "medications")
            {
                Assert.Equal(Codings(original["medicationCodeableConcept"]), Codings(look["medicationCodeableConcept"]));
                Assert.NotEqual(Text(original["authoredOn"]), Text(look["authoredOn"]));
                continue;
            }

            Assert.Equal("labs", nearMiss.Category);
            Assert.Equal(Text(original["effectiveDateTime"])![..10], Text(look["effectiveDateTime"])![..10]);
            if (Codings(look["code"]).SequenceEqual(Codings(original["code"])))
            {
                sameTestOtherValue++;
                Assert.Equal("mg/dL", Unit(look));
                Assert.NotEqual(Value(original), Value(look));
            }
            else
            {
                otherTestSameDay++;
            }
        }

        Assert.Equal((1, 1), (sameTestOtherValue, otherTestSameDay));
    }

    [Fact]
    public async Task The_overlap_can_be_asked_for_one_person()
    {
        var all = await sandbox.Server.OverlapAsync();
        var one = await sandbox.Server.OverlapAsync(GeneratedRecords.PersonId(2));
        var none = await sandbox.Server.OverlapAsync("person-unknown");

        Assert.Equal(SamplesSandbox.GeneratedPeople, all.Count);
        Assert.Equal(GeneratedRecords.PersonId(2), one.Single().PersonId);
        Assert.Equal(all.Single(p => p.PersonId == GeneratedRecords.PersonId(2)).Facts.Count, one.Single().Facts.Count);
        Assert.Empty(none);
    }

    [Fact]
    public async Task Documents_come_inline_or_as_a_Binary_the_persona_serves()
    {
        var records = await GeneratedRecords.LoadAsync(sandbox, 1);
        var documents = records.Resources.SelectMany(b => b.Value.Values.Where(r => (string?)r["resourceType"] == "DocumentReference").Select(r => (Base: b.Key, Document: r))).ToList();

        var inline = documents.Where(d => d.Document["content"]![0]!["attachment"]!["data"] is not null).ToList();
        var linked = documents.Where(d => d.Document["content"]![0]!["attachment"]!["url"] is not null).ToList();

        Assert.NotEmpty(inline);
        Assert.NotEmpty(linked);
        Assert.All(inline, d => Assert.Contains(Text(d.Document["date"] ?? d.Document["indexed"])![..10], Decode(Text(d.Document["content"]![0]!["attachment"]!["data"])!), StringComparison.Ordinal));
        foreach (var (name, document) in linked.Where(d => d.Base.Persona == "epic"))
        {
            var url = Text(document["content"]![0]!["attachment"]!["url"])!;
            Assert.StartsWith("Binary/", url, StringComparison.Ordinal);
            var binary = await records.Clients[name].GetJsonAsync(new Uri(sandbox.Server.FhirBase(name.Persona, name.Segment), url));
            Assert.Equal("text/plain", Text(binary["contentType"]));
            Assert.Equal((int)document["content"]![0]!["attachment"]!["size"]!, Convert.FromBase64String(Text(binary["data"])!).Length);
        }
    }

    [Fact]
    public async Task Records_use_real_code_systems_with_UCUM_units_reference_ranges_and_interpretations()
    {
        var records = await GeneratedRecords.LoadAsync(sandbox, 1);
        var r4 = records.Resources[NextgenR4].Values.ToList();

        static IEnumerable<JsonObject> OfType(List<JsonObject> all, string type) => all.Where(r => (string?)r["resourceType"] == type);
        Assert.All(OfType(r4, "Observation"), o => Assert.Equal(Loinc, Codings(o["code"]).Single().System));
        Assert.All(OfType(r4, "Observation").Where(o => o["valueQuantity"] is not null), o => Assert.Equal("http://unitsofmeasure.org", Text(o["valueQuantity"]!["system"])));
        var labs = OfType(r4, "Observation").Where(o => Codings(o["category"]![0]).Single().Code == "laboratory").ToList();
        Assert.True(labs.Count > 20);
        Assert.All(labs, l => Assert.NotNull(l["referenceRange"]));
        Assert.All(labs, l => Assert.Contains(Codings(l["interpretation"]![0]).Single().Code, new[] { "H", "L", "N" }));
        Assert.All(OfType(r4, "Condition"), c => Assert.Contains(Codings(c["code"]), x => x.System == Snomed));
        Assert.All(OfType(r4, "MedicationRequest"), m => Assert.Equal("http://www.nlm.nih.gov/research/umls/rxnorm", Codings(m["medicationCodeableConcept"]).Single().System));
        Assert.All(OfType(r4, "Immunization"), i => Assert.Equal("http://hl7.org/fhir/sid/cvx", Codings(i["vaccineCode"]).Single().System));
        Assert.All(OfType(r4, "Procedure"), p => Assert.Contains(Codings(p["code"]), x => x.System == Snomed));
        Assert.Contains(OfType(r4, "Procedure"), p => Codings(p["code"]).Any(x => x.System == "http://www.ama-assn.org/go/cpt"));
        Assert.All(OfType(records.Resources[new BaseName("epic", "R4")].Values.ToList(), "Condition"), c => Assert.Equal(Icd10Cm, Codings(c["code"]).Single().System));
        Assert.Contains(OfType(r4, "Observation"), o => o["component"] is not null);
    }

    [Fact]
    public async Task Generated_people_get_the_persona_quirks_of_epic_and_cerner()
    {
        var records = await GeneratedRecords.LoadAsync(sandbox, 2);
        var epic = new BaseName("epic", "R4");
        var cerner = new BaseName("cerner", "R4");
        var epicBase = sandbox.Server.FhirBase("epic", "r4");
        var cernerBase = sandbox.Server.FhirBase("cerner", "r4");

        var noCategory = await records.Clients[epic].GetJsonAsync(new Uri(epicBase, $"Observation?patient={records.Patients[epic].PatientId}"), System.Net.HttpStatusCode.BadRequest);
        var noIntent = await records.Clients[cerner].GetJsonAsync(new Uri(cernerBase, $"MedicationRequest?patient={records.Patients[cerner].PatientId}"), System.Net.HttpStatusCode.BadRequest);
        var orders = await records.Clients[cerner].GetJsonAsync(new Uri(cernerBase, $"MedicationRequest?patient={records.Patients[cerner].PatientId}&intent=order"));
        var labs = await records.Clients[epic].GetJsonAsync(new Uri(epicBase, $"Observation?patient={records.Patients[epic].PatientId}&category=laboratory&_count=100"));

        Assert.Equal("required", noCategory.IssueCode());
        Assert.Equal("required", noIntent.IssueCode());
        Assert.Equal(records.Overlap.Facts.Count(f => f.Category == "medications" && f.Resources.Exists(r => r.Persona == "cerner")), (int)orders["total"]!);
        Assert.Equal(records.Overlap.Facts.Count(f => f.Category == "labs" && f.Resources.Exists(r => r.Persona == "epic")), (int)labs["total"]!);
    }

    private static OverlapFact Shared(GeneratedRecords records, string category) =>
        records.Overlap.Facts.Single(f => f.Category == category && f.Kind == "shared" && f.Resources.Exists(r => r.Persona == "nextgen"));

    private static string Decode(string base64) => Encoding.UTF8.GetString(Convert.FromBase64String(base64));
}
