using System.Text.Json.Nodes;

namespace Aggregator.Domain.Tests.Fhir.Dstu2.Mappers;

public sealed class EncounterMapperTests
{
    [Fact]
    public void Synthea_outpatient_encounter_gets_the_ambulatory_ActCode_class_and_a_subject()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.First("Abbott_Buena_66.json", "Encounter"));

        Assert.Equal("finished", r4.At("status"));
        Assert.Equal("http://terminology.hl7.org/CodeSystem/v3-ActCode", r4.At("class.system"));
        Assert.Equal("AMB", r4.At("class.code"));
        Assert.Equal("Outpatient Encounter", r4.At("type[0].text"));
        Assert.Equal("2011-08-01T14:05:42+00:00", r4.At("period.start"));
        Assert.Equal("2011-08-01T15:05:42+00:00", r4.At("period.end"));
        Assert.Equal("urn:uuid:099e7de7-c952-40e2-9b4e-0face78c9d80", r4.At("subject.reference"));
        Assert.Null(r4["patient"]);
        Assert.Equal("urn:uuid:0fe781ca-464b-4649-a523-b4159d1cf614", r4.At("serviceProvider.reference"));
    }

    [Fact]
    public void Reason_becomes_reason_code()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.All.First(sample => sample.Type == "Encounter" && sample.Resource["reason"] is not null).Resource);

        Assert.NotNull(r4.At("reasonCode[0].coding[0].code"));
        Assert.Null(r4["reason"]);
    }

    [Theory]
    [InlineData("inpatient", "IMP")]
    [InlineData("ambulatory", "AMB")]
    [InlineData("emergency", "EMER")]
    [InlineData("home", "HH")]
    [InlineData("virtual", "VR")]
    public void Class_code_maps_to_the_v3_ActCode_concept(string dstu2Class, string actCode)
    {
        var encounter = Dstu2Samples.First("Abbott_Buena_66.json", "Encounter");
        encounter["class"] = dstu2Class;

        var r4 = R4Assert.Converts(encounter);

        Assert.Equal(actCode, r4.At("class.code"));
    }

    [Fact]
    public void Class_other_is_stated_unknown_and_indication_becomes_a_diagnosis()
    {
        var encounter = Dstu2Samples.First("Abbott_Buena_66.json", "Encounter");
        encounter["class"] = "other";
        encounter["indication"] = new JsonArray(new JsonObject { ["reference"] = "Condition/1" });
        encounter["status"] = "in-progress";

        var r4 = R4Assert.Converts(encounter);

        Assert.Equal("unknown", r4.At("class.extension[0].valueCode"));
        Assert.Equal("Condition/1", r4.At("diagnosis[0].condition.reference"));
        Assert.Equal("in-progress", r4.At("status"));
    }
}
