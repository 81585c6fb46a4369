using System.Text.Json;
using Aggregator.Domain.Records;

namespace Aggregator.Domain.Tests.Records;

/// <summary>Facts normalised with a rebuild's shared values: the same facts, with what they repeat held once.</summary>
public sealed class SharedValuesTests
{
    private static readonly Guid Connection = Guid.Parse("0199a000-0000-7000-8000-0000000000a1");

    [Fact]
    public void Readings_normalised_with_shared_values_are_the_same_facts_and_share_their_coding_and_unit()
    {
        var shared = new SharedValues();
        var first = Reading("hr-1", 64, "2026-03-01T08:00:00Z");
        var second = Reading("hr-2", 71, "2026-03-02T08:00:00Z");

        var pooled = new[] { Normalize(first, shared), Normalize(second, shared) };
        var alone = new[] { Normalize(first, null), Normalize(second, null) };

        for (var i = 0; i < pooled.Length; i++)
        {
            Assert.Equal(alone[i].Fields.ToJsonString(), pooled[i].Fields.ToJsonString());
            Assert.Equal(alone[i].Codes, pooled[i].Codes);
            Assert.Equal(alone[i].Values, pooled[i].Values);
            Assert.Equal(alone[i].Text, pooled[i].Text);
            Assert.Equal(alone[i].Status, pooled[i].Status);
        }

        Assert.Equal(
            RecordMerger.Merge(alone).Select(m => (m.ItemKey, m.Render().ToJsonString())),
            RecordMerger.Merge(pooled).Select(m => (m.ItemKey, m.Render().ToJsonString())));
        Assert.Same(pooled[0].Codes, pooled[1].Codes);
        Assert.Same(pooled[0].Values[0].Value.Unit, pooled[1].Values[0].Value.Unit);
        Assert.NotSame(alone[0].Codes, alone[1].Codes);
    }

    [Fact]
    public void Codings_that_differ_only_in_where_their_words_break_stay_apart()
    {
        var shared = new SharedValues();
        IReadOnlyList<Concept> tabbed = [new("urn:x\tcode", "1", null)];
        IReadOnlyList<Concept> plain = [new("urn:x", "code\t1", null)];
        IReadOnlyList<Concept> again = [new("urn:x", "code\t1", null)];

        var first = shared.Concepts(tabbed);
        var second = shared.Concepts(plain);

        Assert.Equal(tabbed, first);
        Assert.Equal(plain, second);
        Assert.Same(second, shared.Concepts(again));
    }

    private static ClinicalItem Normalize(string json, SharedValues? shared)
    {
        using var document = JsonDocument.Parse(json);
        var id = document.RootElement.GetProperty("id").GetString()!;
        return ClinicalNormalizer.Normalize(new SourceRef(Connection, "NextGen", "Observation", id, null), document.RootElement, null, shared)!;
    }

    private static string Reading(string id, int value, string at) => $$$"""
        {"resourceType":"Observation","id":"{{{id}}}","status":"final",
         "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],
         "code":{"coding":[{"system":"http://loinc.org","code":"8867-4","display":"Heart rate"}],"text":"Heart rate"},
         "effectiveDateTime":"{{{at}}}","valueQuantity":{"value":{{{value}}},"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"}}
        """;
}
