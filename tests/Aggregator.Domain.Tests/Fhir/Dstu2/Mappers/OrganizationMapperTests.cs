namespace Aggregator.Domain.Tests.Fhir.Dstu2.Mappers;

public sealed class OrganizationMapperTests
{
    [Fact]
    public void Synthea_provider_keeps_its_name_and_type_becomes_a_list_in_the_R4_code_system()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.First("Abbott_Buena_66.json", "Organization"));

        Assert.Equal("Synthetic Provider", r4.At("name"));
        Assert.Equal("http://terminology.hl7.org/CodeSystem/organization-type", r4.At("type[0].coding[0].system"));
        Assert.Equal("prov", r4.At("type[0].coding[0].code"));
        Assert.Equal("Healthcare Provider", r4.At("type[0].text"));
    }
}
