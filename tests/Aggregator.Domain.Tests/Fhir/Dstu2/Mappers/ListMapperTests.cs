using System.Text.Json.Nodes;

namespace Aggregator.Domain.Tests.Fhir.Dstu2.Mappers;

/// <summary>The SMART samples' "no known allergies" Lists, and a List with entries.</summary>
public sealed class ListMapperTests
{
    [Fact]
    public void No_known_allergies_keeps_its_code_mode_and_empty_reason_and_gets_the_status_r4_requires()
    {
        var list = Dstu2Samples.All.First(sample => sample.Type == "List").Resource.DeepClone().AsObject();

        var r4 = R4Assert.Converts(list);

        Assert.Equal("52473-6", r4.At("code.coding[0].code"));
        Assert.Equal("snapshot", r4.At("mode"));
        Assert.Equal("current", r4.At("status"));
        Assert.Equal("nilknown", r4.At("emptyReason.coding[0].code"));
        Assert.Equal("2000", r4.At("date"));
        Assert.StartsWith("Patient/", r4.At("subject.reference"), StringComparison.Ordinal);
    }

    [Fact]
    public void Entries_note_and_status_carry_over()
    {
        var list = new JsonObject
        {
            ["resourceType"] = "List",
            ["id"] = "meds",
            ["status"] = "retired",
            ["mode"] = "changes",
            ["title"] = "Home medications",
            ["note"] = "Reviewed at discharge",
            ["entry"] = new JsonArray
            {
                new JsonObject { ["item"] = new JsonObject { ["reference"] = "MedicationStatement/7" }, ["deleted"] = true, ["date"] = "2016-04-01" },
                new JsonObject { ["flag"] = new JsonObject { ["text"] = "unchanged" } },
            },
        };

        var r4 = R4Assert.Converts(list);

        Assert.Equal("retired", r4.At("status"));
        Assert.Equal("changes", r4.At("mode"));
        Assert.Equal("Reviewed at discharge", r4.At("note[0].text"));
        Assert.Equal("MedicationStatement/7", r4.At("entry[0].item.reference"));
        Assert.Equal("true", r4.At("entry[0].deleted"));
        Assert.Single(r4["entry"]!.AsArray()); // an entry without an item says nothing
    }
}
