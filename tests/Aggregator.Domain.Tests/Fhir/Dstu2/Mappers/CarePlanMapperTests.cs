namespace Aggregator.Domain.Tests.Fhir.Dstu2.Mappers;

public sealed class CarePlanMapperTests
{
    [Fact]
    public void Synthea_care_plan_is_a_plan_with_its_activities_category_and_encounter()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.First("Abbott_Buena_66.json", "CarePlan"));

        Assert.Equal("plan", r4.At("intent"));
        Assert.Equal("active", r4.At("status"));
        Assert.Equal("872781000000100", r4.At("category[0].coding[0].code"));
        Assert.Equal("urn:uuid:0bc0ea58-d6af-4065-a8bb-1d7336660742", r4.At("encounter.reference"));
        Assert.Null(r4["context"]);
        Assert.Equal("1992-09-07", r4.At("period.start"));
        Assert.Equal("urn:uuid:01bca6d7-2b05-46d0-9f65-38cee7afeecf", r4.At("addresses[0].reference"));
        Assert.Equal("Joint mobility exercises", r4.At("activity[0].detail.code.coding[0].display"));
        Assert.Equal("in-progress", r4.At("activity[0].detail.status"));
        Assert.Equal("Heat therapy", r4.At("activity[1].detail.code.coding[0].display"));
        Assert.Equal("urn:uuid:099e7de7-c952-40e2-9b4e-0face78c9d80", r4.At("subject.reference"));
    }

    [Fact]
    public void Completed_care_plan_stays_completed_with_its_end()
    {
        var sample = Dstu2Samples.All.First(sample => sample.Type == "CarePlan" && sample.Resource.At("status") == "completed");

        var r4 = R4Assert.Converts(sample.Resource);

        Assert.Equal("completed", r4.At("status"));
        Assert.Equal(sample.Resource.At("period.end"), r4.At("period.end"));
    }

    [Theory]
    [InlineData("proposed", "draft")]
    [InlineData("draft", "draft")]
    [InlineData("cancelled", "revoked")]
    public void Status_maps_to_the_R4_request_status(string status, string r4Status)
    {
        var carePlan = Dstu2Samples.First("Abbott_Buena_66.json", "CarePlan");
        carePlan["status"] = status;

        var r4 = R4Assert.Converts(carePlan);

        Assert.Equal(r4Status, r4.At("status"));
    }
}
