using System.Text.Json;
using System.Text.Json.Nodes;
using Aggregator.Domain.Records;

namespace Aggregator.Domain.Tests.Records;

/// <summary>Each de-duplication rule with the case it must merge and the near miss it must not.</summary>
public sealed class RecordMergerTests
{
    private static readonly Guid ProviderA = Guid.Parse("00000000-0000-0000-0000-00000000000a");
    private static readonly Guid ProviderB = Guid.Parse("00000000-0000-0000-0000-00000000000b");
    private const string Loinc = "http://loinc.org";
    private const string Ucum = "http://unitsofmeasure.org";

    [Fact]
    public void The_same_lab_in_convertible_units_from_two_providers_is_one_item_with_both_sources()
    {
        var merged = Merge(
            Lab(ProviderA, "a1", "2345-7", "2024-03-01T08:30:00Z", 180, "mg/dL"),
            Lab(ProviderB, "b1", "2345-7", "2024-03-01T08:30:00Z", 1.8m, "g/L"));

        var item = Assert.Single(merged);
        Assert.Equal(RecordMerger.ByCodeTimeAndValue, item.MergedBy);
        Assert.Equal(2, item.Members.Count);
    }

    [Fact]
    public void The_same_test_at_the_same_time_with_another_value_stays_two_items()
    {
        var merged = Merge(
            Lab(ProviderA, "a1", "2345-7", "2024-03-01T08:30:00Z", 180, "mg/dL"),
            Lab(ProviderB, "b1", "2345-7", "2024-03-01T08:30:00Z", 1.9m, "g/L"));

        Assert.Equal(2, merged.Count);
    }

    [Fact]
    public void Two_different_labs_on_the_same_morning_stay_two_items()
    {
        var merged = Merge(
            Lab(ProviderA, "a1", "2345-7", "2024-03-01T08:30:00Z", 95, "mg/dL"),
            Lab(ProviderA, "a2", "4548-4", "2024-03-01T08:30:00Z", 6.1m, "%"));

        Assert.Equal(2, merged.Count);
    }

    [Fact]
    public void A_weight_in_kilograms_and_in_pounds_within_the_reported_precision_is_one_fact_but_not_a_different_weight()
    {
        var same = Merge(
            Vital(ProviderA, "a1", "29463-7", "2024-05-10T10:00:00Z", 70, "kg"),
            Vital(ProviderB, "b1", "29463-7", "2024-05-10T10:00:00Z", 154.3m, "[lb_av]"));
        var different = Merge(
            Vital(ProviderA, "a1", "29463-7", "2024-05-10T10:00:00Z", 72, "kg"),
            Vital(ProviderB, "b1", "29463-7", "2024-05-10T10:00:00Z", 154.3m, "[lb_av]"));

        Assert.Single(same);
        Assert.Equal(2, different.Count);
    }

    [Fact]
    public void A_mass_concentration_and_a_molar_one_are_different_tests()
    {
        var merged = Merge(
            Lab(ProviderA, "a1", "2345-7", "2024-03-01T08:30:00Z", 90, "mg/dL"),
            Lab(ProviderB, "b1", "2345-7", "2024-03-01T08:30:00Z", 5, "mmol/L"));

        Assert.Equal(2, merged.Count);
    }

    [Fact]
    public void Instants_compare_in_utc_and_a_dstu2_style_ucum_url_is_still_ucum()
    {
        var merged = Merge(
            Lab(ProviderA, "a1", "2345-7", "2024-03-01T08:30:00Z", 180, "mg/dL"),
            Lab(ProviderB, "b1", "2345-7", "2024-03-01T03:30:00-05:00", 1.8m, "g/L", system: Ucum + "/"));

        Assert.Single(merged);
    }

    [Fact]
    public void A_lab_an_hour_later_is_another_lab()
    {
        var merged = Merge(
            Lab(ProviderA, "a1", "2345-7", "2024-03-01T08:30:00Z", 180, "mg/dL"),
            Lab(ProviderB, "b1", "2345-7", "2024-03-01T09:30:00Z", 180, "mg/dL"));

        Assert.Equal(2, merged.Count);
    }

    [Fact]
    public void A_condition_coded_in_snomed_at_one_provider_and_icd10_at_another_is_one_item_by_its_display_and_onset()
    {
        var merged = Merge(
            Condition(ProviderA, "a1", "http://snomed.info/sct", "44054006", "Diabetes mellitus type 2", "2019-06-02"),
            Condition(ProviderB, "b1", "http://hl7.org/fhir/sid/icd-10-cm", "E11.9", "Diabetes mellitus type 2", "2019-06-02"));
        var otherOnset = Merge(
            Condition(ProviderA, "a1", "http://snomed.info/sct", "44054006", "Diabetes mellitus type 2", "2019-06-02"),
            Condition(ProviderB, "b1", "http://hl7.org/fhir/sid/icd-10-cm", "E11.9", "Diabetes mellitus type 2", "2021-01-15"));

        Assert.Equal(RecordMerger.ByDisplayAndTime, Assert.Single(merged).MergedBy);
        Assert.Equal(2, otherOnset.Count);
    }

    [Fact]
    public void A_shared_identifier_merges_whatever_the_codes_say()
    {
        var a = Condition(ProviderA, "a1", "http://snomed.info/sct", "38341003", "Hypertension", "2018-01-01", identifier: "urn:example:problem|P-77");
        var b = Condition(ProviderB, "b1", "http://hl7.org/fhir/sid/icd-10-cm", "I10", "Essential hypertension", "2018-01-01", identifier: "urn:example:problem|P-77");

        Assert.Equal(RecordMerger.ByIdentifier, Assert.Single(Merge(a, b)).MergedBy);
    }

    [Fact]
    public void The_same_prescription_merges_on_code_and_authored_date_but_not_a_later_refill()
    {
        var merged = Merge(
            Medication(ProviderA, "a1", "860975", "2024-02-01T10:00:00Z"),
            Medication(ProviderB, "b1", "860975", "2024-02-01"),
            Medication(ProviderB, "b2", "860975", "2024-05-01"));

        Assert.Equal(2, merged.Count);
        Assert.Contains(merged, m => m.Members.Count == 2 && m.MergedBy == RecordMerger.ByCodeAndTime);
    }

    [Fact]
    public void Two_alike_facts_of_one_provider_stay_two_items_and_another_providers_one_copy_pairs_with_one_of_them()
    {
        var merged = Merge(
            Lab(ProviderA, "a1", "2345-7", "2024-03-01T08:30:00Z", 180, "mg/dL"),
            Lab(ProviderA, "a2", "2345-7", "2024-03-01T08:30:00Z", 180, "mg/dL"),
            Lab(ProviderB, "b1", "2345-7", "2024-03-01T08:30:00Z", 1.8m, "g/L"));

        Assert.Equal(2, merged.Count);
        Assert.Equal(["a1", "b1"], merged.Single(m => m.Members.Count == 2).Members.Select(m => m.Source.ResourceId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_most_recently_updated_source_is_shown_and_both_stay_listed()
    {
        var older = Lab(ProviderA, "a1", "2345-7", "2024-03-01T08:30:00Z", 180, "mg/dL", lastUpdated: "2024-03-02T00:00:00Z", status: "preliminary");
        var newer = Lab(ProviderB, "b1", "2345-7", "2024-03-01T08:30:00Z", 1.8m, "g/L", lastUpdated: "2024-03-05T00:00:00Z", status: "final");

        var item = Assert.Single(Merge(older, newer));
        var shown = item.Render();

        Assert.Equal("final", shown["status"]!.GetValue<string>());
        var statuses = shown["sources"]!.AsArray().Select(s => s!["status"]!.GetValue<string>()).Order().ToList();
        Assert.Equal(["final", "preliminary"], statuses);
    }

    [Fact]
    public void An_entered_in_error_fact_is_retracted()
    {
        var item = Assert.Single(Merge(Lab(ProviderA, "a1", "2345-7", "2024-03-01T08:30:00Z", 180, "mg/dL", status: "entered-in-error")));

        Assert.True(item.Retracted);
    }

    [Fact]
    public void Merging_is_deterministic_whatever_the_input_order()
    {
        var items = new[]
        {
            Lab(ProviderA, "a1", "2345-7", "2024-03-01T08:30:00Z", 180, "mg/dL"),
            Lab(ProviderB, "b1", "2345-7", "2024-03-01T08:30:00Z", 1.8m, "g/L"),
            Lab(ProviderB, "b2", "2345-7", "2024-03-01T08:30:00Z", 1.9m, "g/L"),
            Condition(ProviderA, "a3", "http://snomed.info/sct", "44054006", "Diabetes mellitus type 2", "2019-06-02"),
        };

        var forward = RecordMerger.Merge(items).Select(m => m.ItemKey + "=" + string.Join(",", m.Members.Select(x => x.Source.ResourceId))).ToList();
        var backward = RecordMerger.Merge(items.Reverse()).Select(m => m.ItemKey + "=" + string.Join(",", m.Members.Select(x => x.Source.ResourceId))).ToList();

        Assert.Equal(forward, backward);
    }

    private static List<MergedItem> Merge(params ClinicalItem[] items) => [.. RecordMerger.Merge(items)];

    private static ClinicalItem Lab(Guid connection, string id, string loinc, string effective, decimal value, string unit,
        string? system = null, string? lastUpdated = null, string status = "final") =>
        Observation(connection, id, "laboratory", loinc, effective, value, unit, system, lastUpdated, status);

    private static ClinicalItem Vital(Guid connection, string id, string loinc, string effective, decimal value, string unit) =>
        Observation(connection, id, "vital-signs", loinc, effective, value, unit, null, null, "final");

    private static ClinicalItem Observation(Guid connection, string id, string category, string loinc, string effective, decimal value, string unit,
        string? system, string? lastUpdated, string status) => Normalize(connection, new JsonObject
        {
            ["resourceType"] = "Observation",
            ["id"] = id,
            ["meta"] = new JsonObject { ["lastUpdated"] = lastUpdated ?? "2024-03-02T00:00:00Z" },
            ["status"] = status,
            ["category"] = new JsonArray(new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["code"] = category }) }),
            ["code"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = Loinc, ["code"] = loinc }) },
            ["effectiveDateTime"] = effective,
            ["valueQuantity"] = new JsonObject { ["value"] = value, ["unit"] = unit, ["system"] = system ?? Ucum, ["code"] = unit },
        });

    private static ClinicalItem Condition(Guid connection, string id, string system, string code, string display, string onset, string? identifier = null)
    {
        var resource = new JsonObject
        {
            ["resourceType"] = "Condition",
            ["id"] = id,
            ["code"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = system, ["code"] = code, ["display"] = display }), ["text"] = display },
            ["onsetDateTime"] = onset,
        };
        if (identifier is not null)
        {
            resource["identifier"] = new JsonArray(new JsonObject { ["system"] = identifier.Split('|')[0], ["value"] = identifier.Split('|')[1] });
        }

        return Normalize(connection, resource);
    }

    private static ClinicalItem Medication(Guid connection, string id, string rxnorm, string authoredOn) => Normalize(connection, new JsonObject
    {
        ["resourceType"] = "MedicationRequest",
        ["id"] = id,
        ["status"] = "active",
        ["intent"] = "order",
        ["medicationCodeableConcept"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://www.nlm.nih.gov/research/umls/rxnorm", ["code"] = rxnorm }) },
        ["authoredOn"] = authoredOn,
    });

    private static ClinicalItem Normalize(Guid connection, JsonObject resource)
    {
        using var document = JsonDocument.Parse(resource.ToJsonString());
        var lastUpdated = resource["meta"]?["lastUpdated"]?.GetValue<string>();
        var source = new SourceRef(connection, connection == ProviderA ? "Provider A" : "Provider B", resource["resourceType"]!.GetValue<string>(), resource["id"]!.GetValue<string>(),
            lastUpdated is null ? null : DateTimeOffset.Parse(lastUpdated, System.Globalization.CultureInfo.InvariantCulture));
        return ClinicalNormalizer.Normalize(source, document.RootElement.Clone())!;
    }
}
