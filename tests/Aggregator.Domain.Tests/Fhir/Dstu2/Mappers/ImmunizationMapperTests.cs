using System.Text.Json.Nodes;

namespace Aggregator.Domain.Tests.Fhir.Dstu2.Mappers;

public sealed class ImmunizationMapperTests
{
    [Fact]
    public void Synthea_immunization_keeps_vaccine_and_date_as_occurrence()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.First("Abbott_Buena_66.json", "Immunization"));

        Assert.Equal("completed", r4.At("status"));
        Assert.Equal("http://hl7.org/fhir/sid/cvx", r4.At("vaccineCode.coding[0].system"));
        Assert.Equal("140", r4.At("vaccineCode.coding[0].code"));
        Assert.Equal("Influenza, seasonal, injectable, preservative free", r4.At("vaccineCode.text"));
        Assert.Equal("2007-11-27T09:05:42-05:00", r4.At("occurrenceDateTime"));
        Assert.Null(r4["date"]);
        Assert.Equal("urn:uuid:099e7de7-c952-40e2-9b4e-0face78c9d80", r4.At("patient.reference"));
    }

    [Fact]
    public void Vaccine_not_given_becomes_status_not_done_with_the_reason()
    {
        var immunization = Dstu2Samples.First("patient-1134281.fhir-bundle.json", "Immunization", candidate => candidate.At("id") == "smart-Immunization-10");

        var r4 = R4Assert.Converts(immunization);

        Assert.Equal("not-done", r4.At("status"));
        Assert.Equal("documentedImmunityOrPreviousDisease", r4.At("statusReason.coding[0].code"));
        Assert.Equal("21", r4.At("vaccineCode.coding[0].code"));
        Assert.Equal("2009-03-11", r4.At("occurrenceDateTime"));
        Assert.Null(r4["wasNotGiven"]);
    }

    [Fact]
    public void SMART_immunization_with_booleans_as_strings_is_given_and_first_hand()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.First("patient-1032702.fhir-bundle.json", "Immunization"));

        Assert.Equal("completed", r4.At("status"));
        Assert.Equal("true", r4.At("primarySource"));
        Assert.Equal("http://hl7.org/fhir/sid/cvx", r4.At("vaccineCode.coding[0].system"));
    }

    [Fact]
    public void Reported_immunization_is_not_a_primary_source_and_performer_becomes_administering_provider()
    {
        var immunization = Dstu2Samples.First("patient-1032702.fhir-bundle.json", "Immunization");
        immunization["reported"] = true;
        immunization["performer"] = new JsonObject { ["reference"] = "Practitioner/8" };
        immunization["vaccinationProtocol"] = new JsonArray(new JsonObject { ["doseSequence"] = 2, ["series"] = "primary" });

        var r4 = R4Assert.Converts(immunization);

        Assert.Equal("false", r4.At("primarySource"));
        Assert.Equal("Practitioner/8", r4.At("performer[0].actor.reference"));
        Assert.Equal("AP", r4.At("performer[0].function.coding[0].code"));
        Assert.Equal("2", r4.At("protocolApplied[0].doseNumberPositiveInt"));
    }
}
