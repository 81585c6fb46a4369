using System.Text.Json.Nodes;

namespace Aggregator.Domain.Tests.Fhir.Dstu2.Mappers;

public sealed class ObservationMapperTests
{
    [Fact]
    public void Lab_result_keeps_value_and_unit_with_UCUM_named_without_the_trailing_slash()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.First("Abbott_Buena_66.json", "Observation", observation => observation.At("code.coding[0].code") == "4548-4"));

        Assert.Equal("final", r4.At("status"));
        Assert.Equal("5.8", r4.At("valueQuantity.value"));
        Assert.Equal("%", r4.At("valueQuantity.unit"));
        Assert.Equal("http://unitsofmeasure.org", r4.At("valueQuantity.system"));
        Assert.Equal("http://terminology.hl7.org/CodeSystem/observation-category", r4.At("category[0].coding[0].system"));
        Assert.Equal("laboratory", r4.At("category[0].coding[0].code"));
        Assert.Equal("2011-08-01T14:05:42+00:00", r4.At("effectiveDateTime"));
        Assert.Equal("2011-08-01T14:05:42+00:00", r4.At("issued"));
        Assert.Equal("urn:uuid:099e7de7-c952-40e2-9b4e-0face78c9d80", r4.At("subject.reference"));
    }

    [Fact]
    public void Blood_pressure_keeps_both_components_with_their_units()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.First("Abbott_Buena_66.json", "Observation", observation => observation["component"] is not null));

        Assert.Equal("55284-4", r4.At("code.coding[0].code"));
        Assert.Equal(2, r4["component"]!.AsArray().Count);
        Assert.Equal("8480-6", r4.At("component[0].code.coding[0].code"));
        Assert.Equal("107", r4.At("component[0].valueQuantity.value"));
        Assert.Equal("mmHg", r4.At("component[0].valueQuantity.unit"));
        Assert.Equal("http://unitsofmeasure.org", r4.At("component[0].valueQuantity.system"));
        Assert.Equal("8462-4", r4.At("component[1].code.coding[0].code"));
        Assert.Equal("71", r4.At("component[1].valueQuantity.value"));
        Assert.Equal("mmHg", r4.At("component[1].valueQuantity.code"));
    }

    [Fact]
    public void Smoking_status_keeps_its_coded_value_and_social_history_category()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.First("patient-1032702.fhir-bundle.json", "Observation"));

        Assert.Equal("428041000124106", r4.At("valueCodeableConcept.coding[0].code"));
        Assert.Equal("Current some day smoker", r4.At("valueCodeableConcept.text"));
        Assert.Equal("social-history", r4.At("category[0].coding[0].code"));
        Assert.Equal("Social History", r4.At("category[0].text"));
        Assert.Equal("Patient/smart-1032702", r4.At("subject.reference"));
    }

    [Fact]
    public void Comments_interpretation_ranges_and_members_take_their_R4_places()
    {
        var observation = Dstu2Samples.First("Abbott_Buena_66.json", "Observation", candidate => candidate.At("code.coding[0].code") == "4548-4");
        observation["comments"] = "Fasting";
        observation["interpretation"] = new JsonObject { ["text"] = "High" };
        observation["referenceRange"] = new JsonArray(new JsonObject
        {
            ["high"] = new JsonObject { ["value"] = 5.6, ["unit"] = "%" },
            ["meaning"] = new JsonObject { ["text"] = "Normal range" },
        });
        observation["related"] = new JsonArray(new JsonObject { ["type"] = "has-member", ["target"] = new JsonObject { ["reference"] = "Observation/2" } });

        var r4 = R4Assert.Converts(observation);

        Assert.Equal("Fasting", r4.At("note[0].text"));
        Assert.Equal("High", r4.At("interpretation[0].text"));
        Assert.Equal("5.6", r4.At("referenceRange[0].high.value"));
        Assert.Equal("Normal range", r4.At("referenceRange[0].type.text"));
        Assert.Equal("Observation/2", r4.At("hasMember[0].reference"));
    }
}
