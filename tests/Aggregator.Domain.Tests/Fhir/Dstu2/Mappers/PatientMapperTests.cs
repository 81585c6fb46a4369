using System.Text.Json.Nodes;

namespace Aggregator.Domain.Tests.Fhir.Dstu2.Mappers;

public sealed class PatientMapperTests
{
    [Fact]
    public void Synthea_patient_keeps_name_identifiers_and_demographics_in_R4_form()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.First("Abbott_Buena_66.json", "Patient"));

        Assert.Equal("Abbott", r4.At("name[0].family"));
        Assert.Equal("Buena", r4.At("name[0].given[0]"));
        Assert.Equal("Ms.", r4.At("name[0].prefix[0]"));
        Assert.Equal("female", r4.At("gender"));
        Assert.Equal("1954-11-11", r4.At("birthDate"));
        Assert.Equal("http://terminology.hl7.org/CodeSystem/v2-0203", r4.At("identifier[3].type.coding[0].system"));
        Assert.Equal("MR", r4.At("identifier[3].type.coding[0].code"));
        Assert.Equal("http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", r4.At("maritalStatus.coding[0].system"));
        Assert.Equal("urn:ietf:bcp:47", r4.At("communication[0].language.coding[0].system"));
        Assert.Equal("http://terminology.hl7.org/CodeSystem/v3-Race", r4.At("extension[0].valueCodeableConcept.coding[0].system"));
        Assert.Equal("http://hl7.org/fhir/StructureDefinition/geolocation", r4.At("address[0].extension[0].url"));
    }

    [Fact]
    public void SMART_patient_family_name_array_becomes_one_string()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.First("patient-1032702.fhir-bundle.json", "Patient"));

        Assert.Equal("Shaw", r4.At("name[0].family"));
        Assert.Equal("V.", r4.At("name[0].given[1]"));
        Assert.Equal("mobile", r4.At("telecom[0].use"));
        Assert.Equal("smart-1032702", r4.At("id"));
    }

    [Fact]
    public void Care_provider_becomes_general_practitioner_and_link_replace_becomes_replaced_by()
    {
        var patient = Dstu2Samples.First("patient-1032702.fhir-bundle.json", "Patient");
        patient["name"]![0]!["family"] = new JsonArray("van", "der Berg");
        patient["careProvider"] = new JsonArray(new JsonObject { ["reference"] = "Practitioner/7", ["display"] = "Dr. Who" });
        patient["link"] = new JsonArray(new JsonObject { ["other"] = new JsonObject { ["reference"] = "Patient/9" }, ["type"] = "replace" });
        patient["animal"] = new JsonObject { ["species"] = new JsonObject { ["text"] = "Dog" } };

        var r4 = R4Assert.Converts(patient);

        Assert.Equal("van der Berg", r4.At("name[0].family"));
        Assert.Equal("Practitioner/7", r4.At("generalPractitioner[0].reference"));
        Assert.Null(r4["careProvider"]);
        Assert.Equal("replaced-by", r4.At("link[0].type"));
        Assert.Null(r4["animal"]);
        Assert.Equal("Dog", r4.At("extension[0].extension[0].valueCodeableConcept.text"));
    }
}
