using System.Text.Json.Nodes;

namespace Aggregator.Domain.Tests.Fhir.Dstu2.Mappers;

public sealed class AllergyIntoleranceMapperTests
{
    [Fact]
    public void Peanut_allergy_keeps_substance_as_code_and_gets_coded_clinical_status()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.First("Abbott_Pok_14.json", "AllergyIntolerance"));

        Assert.Equal("91935009", r4.At("code.coding[0].code"));
        Assert.Equal("Allergy to peanuts", r4.At("code.coding[0].display"));
        Assert.Equal("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", r4.At("clinicalStatus.coding[0].system"));
        Assert.Equal("active", r4.At("clinicalStatus.coding[0].code"));
        Assert.Null(r4["verificationStatus"]);
        Assert.Equal("low", r4.At("criticality"));
        Assert.Equal("allergy", r4.At("type"));
        Assert.Equal("food", r4.At("category[0]"));
        Assert.Equal("urn:uuid:04327b09-4d3a-4c8b-9959-83bc1b358203", r4.At("patient.reference"));
        Assert.Equal("2007-02-16T04:37:44+00:00", r4.At("recordedDate"));
        Assert.Null(r4["substance"]);
    }

    [Theory]
    [InlineData("active", "CRITL", "active", null, "low")]
    [InlineData("unconfirmed", "CRITH", "active", "unconfirmed", "high")]
    [InlineData("confirmed", "CRITU", "active", "confirmed", "unable-to-assess")]
    [InlineData("resolved", "CRITL", "resolved", null, "low")]
    [InlineData("refuted", "CRITL", null, "refuted", "low")]
    [InlineData("entered-in-error", "CRITH", null, "entered-in-error", "high")]
    public void DSTU2_status_splits_into_clinical_and_verification_status(
        string status, string criticality, string? clinical, string? verification, string r4Criticality)
    {
        var allergy = Dstu2Samples.First("Abbott_Pok_14.json", "AllergyIntolerance");
        allergy["status"] = status;
        allergy["criticality"] = criticality;

        var r4 = R4Assert.Converts(allergy);

        Assert.Equal(clinical, r4.At("clinicalStatus.coding[0].code"));
        Assert.Equal(verification, r4.At("verificationStatus.coding[0].code"));
        if (verification == "entered-in-error")
        {
            Assert.Equal("Entered in Error", r4.At("verificationStatus.coding[0].display"));
        }
        Assert.Equal(r4Criticality, r4.At("criticality"));
    }

    [Fact]
    public void Reaction_keeps_manifestation_and_severity_and_certainty_moves_to_an_extension()
    {
        var allergy = Dstu2Samples.First("Abbott_Pok_14.json", "AllergyIntolerance");
        allergy["reaction"] = new JsonArray(new JsonObject
        {
            ["certainty"] = "likely",
            ["manifestation"] = new JsonArray(new JsonObject { ["text"] = "Hives" }),
            ["severity"] = "moderate",
        });

        var r4 = R4Assert.Converts(allergy);

        Assert.Equal("Hives", r4.At("reaction[0].manifestation[0].text"));
        Assert.Equal("moderate", r4.At("reaction[0].severity"));
        Assert.Equal("likely", r4.At("reaction[0].extension[0].valueCode"));
    }
}
