using System.Text.Json.Nodes;
using Aggregator.Domain.Fhir.Dstu2;

namespace Aggregator.Domain.Tests.Fhir.Dstu2;

public sealed class Dstu2ToR4Tests
{
    [Theory]
    [InlineData("Patient")]
    [InlineData("AllergyIntolerance")]
    [InlineData("Condition")]
    [InlineData("MedicationOrder")]
    [InlineData("MedicationStatement")]
    [InlineData("MedicationDispense")]
    [InlineData("Observation")]
    [InlineData("Immunization")]
    [InlineData("Procedure")]
    [InlineData("DiagnosticReport")]
    [InlineData("DocumentReference")]
    [InlineData("Encounter")]
    [InlineData("CarePlan")]
    [InlineData("Goal")]
    [InlineData("Device")]
    [InlineData("Practitioner")]
    [InlineData("Organization")]
    [InlineData("Location")]
    [InlineData("Medication")]
    public void Types_the_sync_plan_reads_are_mapped(string dstu2Type) => Assert.True(Dstu2ToR4.IsMapped(dstu2Type));

    [Theory]
    [InlineData("Flag")]
    [InlineData("Claim")]
    [InlineData("MedicationRequest")]
    public void Other_types_are_not_mapped(string dstu2Type) => Assert.False(Dstu2ToR4.IsMapped(dstu2Type));

    [Theory]
    [InlineData("MedicationOrder", "MedicationRequest")]
    [InlineData("DiagnosticOrder", "ServiceRequest")]
    [InlineData("Patient", "Patient")]
    [InlineData("List", "List")]
    public void R4_type_names_the_renamed_types(string dstu2Type, string r4Type) => Assert.Equal(r4Type, Dstu2ToR4.R4TypeOf(dstu2Type));

    [Fact]
    public void Unmapped_type_fails_with_a_reason_naming_it()
    {
        var conversion = Dstu2ToR4.Convert(new JsonObject { ["resourceType"] = "Claim", ["id"] = "1" });

        Assert.False(conversion.Succeeded);
        Assert.Null(conversion.Resource);
        Assert.Equal("DSTU2 Claim is not mapped to R4.", conversion.Error);
    }

    [Fact]
    public void Resource_without_a_type_cannot_be_read()
    {
        var conversion = Dstu2ToR4.Convert(new JsonObject { ["id"] = "1" });

        Assert.False(conversion.Succeeded);
        Assert.Contains("resourceType", conversion.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("MedicationOrder/5", "MedicationRequest/5")]
    [InlineData("https://fhir.example.org/dstu2/MedicationOrder/5/_history/2", "https://fhir.example.org/dstu2/MedicationRequest/5/_history/2")]
    [InlineData("Patient/123", "Patient/123")]
    [InlineData("urn:uuid:0bc0ea58-d6af-4065-a8bb-1d7336660742", "urn:uuid:0bc0ea58-d6af-4065-a8bb-1d7336660742")]
    [InlineData("#med1", "#med1")]
    public void References_stay_as_given_except_to_renamed_types(string dstu2Reference, string r4Reference)
    {
        var statement = Dstu2Samples.Example("medicationstatements.json", "5517304");
        statement["supportingInformation"] = new JsonArray(new JsonObject { ["reference"] = dstu2Reference });

        var r4 = R4Assert.Converts(statement);

        Assert.Equal(r4Reference, r4.At("derivedFrom[0].reference"));
    }

    [Fact]
    public void Converting_leaves_a_resource_with_nested_lists_unchanged()
    {
        var statement = Dstu2Samples.Example("medicationstatements.json", "5517389");
        var before = statement.ToJsonString();

        var conversion = Dstu2ToR4.Convert(statement);

        Assert.True(conversion.Succeeded);
        Assert.Equal(before, statement.ToJsonString());
        conversion.Resource!["contained"]![0]!["code"]!["text"] = "changed";
        Assert.Equal(before, statement.ToJsonString());
    }
}
