using System.Text.Json.Nodes;

namespace Aggregator.Domain.Tests.Fhir.Dstu2.Mappers;

public sealed class ProcedureMapperTests
{
    [Fact]
    public void Synthea_procedure_keeps_code_period_and_reason()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.First("Abbott_Pok_14.json", "Procedure", procedure => procedure["performedPeriod"] is not null && procedure["reasonReference"] is not null));

        Assert.Equal("completed", r4.At("status"));
        Assert.Equal("228557008", r4.At("code.coding[0].code"));
        Assert.Equal("Cognitive and behavioral therapy", r4.At("code.text"));
        Assert.Equal("2016-03-06T22:19:37+00:00", r4.At("performedPeriod.start"));
        Assert.Equal("2016-03-06T23:19:37+00:00", r4.At("performedPeriod.end"));
        Assert.Equal("Child attention deficit disorder", r4.At("reasonReference[0].display"));
        Assert.Equal("urn:uuid:04327b09-4d3a-4c8b-9959-83bc1b358203", r4.At("subject.reference"));
    }

    [Theory]
    [InlineData("completed", false, "completed")]
    [InlineData("in-progress", false, "in-progress")]
    [InlineData("aborted", false, "stopped")]
    [InlineData("completed", true, "not-done")]
    [InlineData("entered-in-error", true, "entered-in-error")]
    public void Status_and_not_performed_map_to_the_R4_status(string status, bool notPerformed, string r4Status)
    {
        var procedure = Dstu2Samples.First("Abbott_Pok_14.json", "Procedure");
        procedure["status"] = status;
        procedure["notPerformed"] = notPerformed;
        procedure["reasonNotPerformed"] = new JsonArray(new JsonObject { ["text"] = "Patient declined" });

        var r4 = R4Assert.Converts(procedure);

        Assert.Equal(r4Status, r4.At("status"));
        Assert.Equal("Patient declined", r4.At("statusReason.text"));
    }
}
