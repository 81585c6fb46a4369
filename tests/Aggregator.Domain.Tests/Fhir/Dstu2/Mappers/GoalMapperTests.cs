using System.Text.Json.Nodes;

namespace Aggregator.Domain.Tests.Fhir.Dstu2.Mappers;

public sealed class GoalMapperTests
{
    [Fact]
    public void Synthea_goal_keeps_its_description_and_in_progress_becomes_active_and_in_progress()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.First("Abbott_Buena_66.json", "Goal"));

        Assert.Equal("Hemoglobin A1c total in Blood < 7.0", r4.At("description.text"));
        Assert.Equal("active", r4.At("lifecycleStatus"));
        Assert.Equal("in-progress", r4.At("achievementStatus.coding[0].code"));
        Assert.Equal("In Progress", r4.At("achievementStatus.coding[0].display"));
        Assert.Equal("http://terminology.hl7.org/CodeSystem/goal-achievement", r4.At("achievementStatus.coding[0].system"));
        Assert.Equal("urn:uuid:a377e76e-2fbb-4337-8975-6f34ffffa8ae", r4.At("addresses[0].reference"));
        Assert.Equal("unknown", r4.At("subject.extension[0].valueCode"));
    }

    [Theory]
    [InlineData("proposed", "proposed", null)]
    [InlineData("planned", "planned", null)]
    [InlineData("achieved", "completed", "achieved")]
    [InlineData("sustaining", "active", "sustaining")]
    [InlineData("cancelled", "cancelled", null)]
    public void Status_splits_into_lifecycle_and_achievement(string status, string lifecycle, string? achievement)
    {
        var goal = Dstu2Samples.First("Abbott_Buena_66.json", "Goal");
        goal["status"] = status;

        var r4 = R4Assert.Converts(goal);

        Assert.Equal(lifecycle, r4.At("lifecycleStatus"));
        Assert.Equal(achievement, r4.At("achievementStatus.coding[0].code"));
    }

    [Fact]
    public void DSTU2_string_description_target_date_and_author_take_their_R4_places()
    {
        var goal = Dstu2Samples.First("Abbott_Buena_66.json", "Goal");
        goal["description"] = "Walk 30 minutes a day";
        goal["targetDate"] = "2012-01-01";
        goal["author"] = new JsonObject { ["reference"] = "Practitioner/4" };
        goal["subject"] = new JsonObject { ["reference"] = "Patient/1" };

        var r4 = R4Assert.Converts(goal);

        Assert.Equal("Walk 30 minutes a day", r4.At("description.text"));
        Assert.Equal("2012-01-01", r4.At("target[0].dueDate"));
        Assert.Equal("Practitioner/4", r4.At("expressedBy.reference"));
        Assert.Equal("Patient/1", r4.At("subject.reference"));
    }
}
