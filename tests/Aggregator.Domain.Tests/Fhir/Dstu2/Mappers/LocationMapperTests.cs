namespace Aggregator.Domain.Tests.Fhir.Dstu2.Mappers;

/// <summary>A DSTU2 ambulance (the sample patients have no Location).</summary>
public sealed class LocationMapperTests
{
    [Fact]
    public void Ambulance_keeps_name_mode_and_position_and_its_type_becomes_a_list()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.Example("location-ambulance.json"));

        Assert.Equal("Medic 7", r4.At("name"));
        Assert.Equal("instance", r4.At("mode"));
        Assert.Equal("active", r4.At("status"));
        Assert.Equal("MEDIC-7", r4.At("identifier[0].value"));
        Assert.Equal("http://terminology.hl7.org/CodeSystem/v3-RoleCode", r4.At("type[0].coding[0].system"));
        Assert.Equal("AMB", r4.At("type[0].coding[0].code"));
        Assert.Equal("http://terminology.hl7.org/CodeSystem/location-physical-type", r4.At("physicalType.coding[0].system"));
        Assert.Equal("ve", r4.At("physicalType.coding[0].code"));
        Assert.Equal("-89.40120", r4.At("position.longitude"));
        Assert.Equal("43.07310", r4.At("position.latitude"));
        Assert.Equal("266.0", r4.At("position.altitude"));
        Assert.Equal("mobile", r4.At("telecom[0].use"));
        Assert.Equal("Organization/2207", r4.At("managingOrganization.reference"));
    }
}
