using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aggregator.Domain.Records;

namespace Aggregator.Domain.Tests.Records;

/// <summary>
/// How real providers write one fact differently, each with the variation that must still merge and the
/// near miss beside it that must not: a local coding beside the standard one, another UCUM unit with
/// floating-point noise, another UTC offset or a date where the other has an instant, missing optional
/// references, and alike facts (two visits of one type at one moment, two procedures of one code) that
/// only their ends, body sites or pairing tell apart.
/// </summary>
public sealed class MergeVariationTests
{
    private static readonly Guid First = Guid.Parse("00000000-0000-0000-0000-0000000000f1");
    private static readonly Guid Second = Guid.Parse("00000000-0000-0000-0000-0000000000f2");
    private static readonly Guid Third = Guid.Parse("00000000-0000-0000-0000-0000000000f3");
    private const string Loinc = "http://loinc.org";
    private const string Snomed = "http://snomed.info/sct";
    private const string LocalOid = "urn:oid:1.2.840.114350.1.13.861.1.7.5.737384.14";

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_local_coding_beside_loinc_in_either_order_still_merges_on_loinc(bool localFirst)
    {
        var loinc = Coding(Loinc, "2339-0", "Glucose");
        var local = Coding(LocalOid, "GLU-77", "GLUCOSE, SERUM");
        var merged = Merge(
            Observation(First, "a1", [Coding(Loinc, "2339-0", "Glucose")], "2024-03-01T08:30:00Z", 95, "mg/dL"),
            Observation(Second, "b1", localFirst ? [local, loinc] : [loinc, local], "2024-03-01T08:30:00Z", 95, "mg/dL"));

        Assert.Equal(RecordMerger.ByCodeTimeAndValue, Assert.Single(merged).MergedBy);
    }

    [Fact]
    public void A_local_code_two_providers_share_never_merges_facts_whose_standard_codes_differ()
    {
        // Both write the same local code (one OID reused by two organisations), but their LOINC codes are different tests.
        var merged = Merge(
            Observation(First, "a1", [Coding(LocalOid, "LAB-1", "Panel"), Coding(Loinc, "2339-0", "Glucose")], "2024-03-01T08:30:00Z", 95, "mg/dL"),
            Observation(Second, "b1", [Coding(LocalOid, "LAB-1", "Panel"), Coding(Loinc, "2345-7", "Glucose [Mass/volume] in Serum or Plasma")], "2024-03-01T08:30:00Z", 95, "mg/dL"));

        Assert.Equal(2, merged.Count);
    }

    [Theory]
    [InlineData("180", "mg/dL", "1.7999999999999998", "g/L")]
    [InlineData("82.3", "kg", "82300.00000000001", "g")]
    // Both sides at full double precision, the conversion's noise beyond the last digit of either: only the relative floor holds them.
    [InlineData("118.98993389967477", "cm", "1.1898993389967476", "m")]
    [InlineData("317.43398053601135", "kg", "317433.98053601134", "g")]
    public void A_quantity_converted_to_another_ucum_unit_with_floating_point_noise_merges(string value, string unit, string converted, string otherUnit)
    {
        var merged = Merge(
            Observation(First, "a1", [Coding(Loinc, "2339-0", "Glucose")], "2024-03-01T08:30:00Z", Number(value), unit),
            Observation(Second, "b1", [Coding(Loinc, "2339-0", "Glucose")], "2024-03-01T08:30:00Z", Number(converted), otherUnit));

        Assert.Single(merged);
    }

    [Theory]
    [InlineData("180", "mg/dL", "1.85", "g/L")]
    [InlineData("82.3", "kg", "82500", "g")]
    [InlineData("172.5", "cm", "1.74", "m")]
    [InlineData("118.98993389967477", "cm", "1.1899017187954", "m")] // two millionths off is another value, not noise
    public void A_converted_quantity_outside_the_reported_precision_is_another_value(string value, string unit, string converted, string otherUnit)
    {
        var merged = Merge(
            Observation(First, "a1", [Coding(Loinc, "2339-0", "Glucose")], "2024-03-01T08:30:00Z", Number(value), unit),
            Observation(Second, "b1", [Coding(Loinc, "2339-0", "Glucose")], "2024-03-01T08:30:00Z", Number(converted), otherUnit));

        Assert.Equal(2, merged.Count);
    }

    [Theory]
    [InlineData("2024-03-01T23:30:00-05:00")]
    [InlineData("2024-03-02T13:30:00+09:00")]
    public void The_same_instant_written_in_another_offset_merges_even_when_its_calendar_date_differs(string written)
    {
        var merged = Merge(
            Observation(First, "a1", [Coding(Loinc, "2339-0", "Glucose")], "2024-03-02T04:30:00Z", 95, "mg/dL"),
            Observation(Second, "b1", [Coding(Loinc, "2339-0", "Glucose")], written, 95, "mg/dL"));

        Assert.Single(merged);
    }

    [Fact]
    public void An_instant_a_minute_apart_in_another_offset_is_another_measurement()
    {
        var merged = Merge(
            Observation(First, "a1", [Coding(Loinc, "2339-0", "Glucose")], "2024-03-02T04:30:00Z", 95, "mg/dL"),
            Observation(Second, "b1", [Coding(Loinc, "2339-0", "Glucose")], "2024-03-01T23:31:00-05:00", 95, "mg/dL"));

        Assert.Equal(2, merged.Count);
    }

    [Theory]
    [InlineData("2024-03-01")] // the date where the instant was written
    [InlineData("2024-03-02")] // its date in UTC
    public void A_date_matches_an_instant_whose_date_where_written_or_in_utc_is_that_date(string date)
    {
        var merged = Merge(
            Condition(First, "a1", "2024-03-01T23:30:00-05:00"),
            Condition(Second, "b1", date));

        Assert.Single(merged);
    }

    [Fact]
    public void A_date_that_is_neither_the_written_nor_the_utc_date_of_the_instant_is_another_onset()
    {
        var merged = Merge(
            Condition(First, "a1", "2024-03-01T23:30:00-05:00"),
            Condition(Second, "b1", "2024-03-03"));

        Assert.Equal(2, merged.Count);
    }

    [Fact]
    public void Missing_encounter_and_performer_references_at_one_provider_do_not_keep_a_fact_apart()
    {
        var withReferences = Observation(First, "a1", [Coding(Loinc, "8867-4", "Heart rate")], "2024-03-01T08:30:00Z", 72, "/min", resource =>
        {
            resource["encounter"] = new JsonObject { ["reference"] = "Encounter/e1" };
            resource["performer"] = new JsonArray(new JsonObject { ["reference"] = "Practitioner/p1" });
        });

        Assert.Single(Merge(withReferences, Observation(Second, "b1", [Coding(Loinc, "8867-4", "Heart rate")], "2024-03-01T08:30:00Z", 72, "/min")));
        Assert.Equal(2, Merge(withReferences, Observation(Second, "b1", [Coding(Loinc, "8867-4", "Heart rate")], "2024-03-01T08:30:00Z", 80, "/min")).Count);
    }

    [Fact]
    public void Two_visits_of_one_type_that_start_together_but_end_apart_pair_by_their_ends()
    {
        var merged = Merge(
            Encounter(First, "a1", "2024-03-01T08:00:00Z", "2024-03-01T08:15:00Z"),
            Encounter(First, "a2", "2024-03-01T08:00:00Z", "2024-03-01T09:00:00Z"),
            Encounter(Second, "b1", "2024-03-01T03:00:00-05:00", "2024-03-01T04:00:00-05:00"),
            Encounter(Second, "b2", "2024-03-01T03:00:00-05:00", "2024-03-01T03:15:00-05:00"));

        Assert.Equal(
            ["a1+b2", "a2+b1"],
            merged.Select(m => string.Join("+", m.Members.Select(x => x.Source.ResourceId).Order(StringComparer.Ordinal))).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_visit_without_an_end_pairs_with_one_of_two_alike_visits_and_never_joins_them()
    {
        var merged = Merge(
            Encounter(First, "a1", "2024-03-01T08:00:00Z", "2024-03-01T08:15:00Z"),
            Encounter(First, "a2", "2024-03-01T08:00:00Z", "2024-03-01T09:00:00Z"),
            Encounter(Second, "b1", "2024-03-01T08:00:00Z", end: null));

        Assert.Equal(2, merged.Count);
        Assert.Equal([1, 2], merged.Select(m => m.Members.Count).Order());
    }

    [Fact]
    public void Two_procedures_of_one_code_in_one_visit_pair_one_to_one_and_a_different_body_site_keeps_them_apart()
    {
        var merged = Merge(
            Procedure(First, "a1", "2024-03-01T08:00:00Z", bodySite: "368209003"),
            Procedure(First, "a2", "2024-03-01T08:40:00Z", bodySite: "368208006"),
            Procedure(Second, "b1", "2024-03-01T08:40:00Z", bodySite: "368208006"),
            Procedure(Second, "b2", "2024-03-01T08:00:00Z", bodySite: "368208006"));

        // b2 shares a1's moment but names the other arm: it is not a1; b1 is a2.
        Assert.Equal(
            ["a1", "a2+b1", "b2"],
            merged.Select(m => string.Join("+", m.Members.Select(x => x.Source.ResourceId).Order(StringComparer.Ordinal))).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_third_source_never_joins_two_facts_that_are_not_one_through_a_fact_each_matches()
    {
        // An instant matches the date where it was written and its UTC date; those two dates are different onsets.
        var days = Merge(
            Condition(First, "a1", "2024-03-01T23:30:00-05:00"),
            Condition(Second, "b1", "2024-03-02"),
            Condition(Third, "c1", "2024-03-01"));
        // 5 mmol/L (±0.5) matches 5.0 and 5.4; 5.0 (±0.05) and 5.4 are different values.
        var values = Merge(
            Observation(First, "a1", [Coding(Loinc, "2339-0", "Glucose")], "2024-03-01T08:30:00Z", 5.0m, "mmol/L"),
            Observation(Second, "b1", [Coding(Loinc, "2339-0", "Glucose")], "2024-03-01T08:30:00Z", 5m, "mmol/L"),
            Observation(Third, "c1", [Coding(Loinc, "2339-0", "Glucose")], "2024-03-01T08:30:00Z", 5.4m, "mmol/L"));

        Assert.DoesNotContain(days, m => m.Members.Any(x => x.Source.ResourceId == "b1") && m.Members.Any(x => x.Source.ResourceId == "c1"));
        Assert.DoesNotContain(values, m => m.Members.Any(x => x.Source.ResourceId == "a1") && m.Members.Any(x => x.Source.ResourceId == "c1"));
        Assert.Equal(2, days.Count);
        Assert.Equal(2, values.Count);
    }

    [Fact]
    public void Pairing_alike_facts_does_not_depend_on_the_order_the_sources_come_in()
    {
        var items = new[]
        {
            Encounter(First, "a1", "2024-03-01T08:00:00Z", "2024-03-01T08:15:00Z"),
            Encounter(First, "a2", "2024-03-01T08:00:00Z", "2024-03-01T09:00:00Z"),
            Encounter(Second, "b1", "2024-03-01T08:00:00Z", end: null),
            Encounter(Third, "c1", "2024-03-01T08:00:00Z", "2024-03-01T09:00:00Z"),
        };
        string Shape(IEnumerable<ClinicalItem> input) =>
            string.Join(" ", RecordMerger.Merge(input).Select(m => m.ItemKey + "=" + string.Join("+", m.Members.Select(x => x.Source.ResourceId).Order(StringComparer.Ordinal))));

        var forward = Shape(items);
        Assert.Equal(forward, Shape(items.Reverse()));
        Assert.Equal(forward, Shape([items[2], items[0], items[3], items[1]]));
        Assert.Contains("a2+c1", forward, StringComparison.Ordinal);
    }

    private static decimal Number(string value) => decimal.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture);

    private static List<MergedItem> Merge(params ClinicalItem[] items) => [.. RecordMerger.Merge(items)];

    private static JsonObject Coding(string system, string code, string display) => new() { ["system"] = system, ["code"] = code, ["display"] = display };

    private static ClinicalItem Observation(Guid connection, string id, JsonObject[] codings, string effective, decimal value, string unit, Action<JsonObject>? change = null)
    {
        var resource = new JsonObject
        {
            ["resourceType"] = "Observation",
            ["id"] = id,
            ["status"] = "final",
            ["category"] = new JsonArray(new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["code"] = "laboratory" }) }),
            ["code"] = new JsonObject { ["coding"] = new JsonArray([.. codings.Select(c => (JsonNode)c.DeepClone())]) },
            ["effectiveDateTime"] = effective,
            ["valueQuantity"] = new JsonObject { ["value"] = value, ["unit"] = unit, ["system"] = "http://unitsofmeasure.org", ["code"] = unit },
        };
        change?.Invoke(resource);
        return Normalize(connection, resource);
    }

    private static ClinicalItem Condition(Guid connection, string id, string onset) => Normalize(connection, new JsonObject
    {
        ["resourceType"] = "Condition",
        ["id"] = id,
        ["code"] = new JsonObject { ["coding"] = new JsonArray(Coding(Snomed, "444814009", "Viral sinusitis (disorder)")) },
        ["onsetDateTime"] = onset,
    });

    private static ClinicalItem Encounter(Guid connection, string id, string start, string? end)
    {
        var period = new JsonObject { ["start"] = start };
        if (end is not null)
        {
            period["end"] = end;
        }

        return Normalize(connection, new JsonObject
        {
            ["resourceType"] = "Encounter",
            ["id"] = id,
            ["status"] = "finished",
            ["type"] = new JsonArray(new JsonObject { ["coding"] = new JsonArray(Coding(Snomed, "185349003", "Encounter for check up (procedure)")) }),
            ["period"] = period,
        });
    }

    private static ClinicalItem Procedure(Guid connection, string id, string performed, string bodySite) => Normalize(connection, new JsonObject
    {
        ["resourceType"] = "Procedure",
        ["id"] = id,
        ["status"] = "completed",
        ["code"] = new JsonObject { ["coding"] = new JsonArray(Coding(Snomed, "396540005", "Phlebotomy")) },
        ["performedDateTime"] = performed,
        ["bodySite"] = new JsonArray(new JsonObject { ["coding"] = new JsonArray(Coding(Snomed, bodySite, "Arm")) }),
    });

    private static ClinicalItem Normalize(Guid connection, JsonObject resource)
    {
        using var document = JsonDocument.Parse(resource.ToJsonString());
        var source = new SourceRef(connection, connection == First ? "First Clinic" : connection == Second ? "Second Clinic" : "Third Clinic", resource["resourceType"]!.GetValue<string>(),
            resource["id"]!.GetValue<string>(), DateTimeOffset.Parse("2024-03-05T00:00:00Z", CultureInfo.InvariantCulture));
        return ClinicalNormalizer.Normalize(source, document.RootElement.Clone())!;
    }
}
