namespace Aggregator.Domain.Tests.Fhir.Dstu2.Mappers;

/// <summary>A DSTU2 family physician (the sample patients have no Practitioner).</summary>
public sealed class PractitionerMapperTests
{
    [Fact]
    public void Single_name_becomes_a_list_with_one_family_string_and_the_role_is_not_carried()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.Example("practitioner-family-physician.json"));

        Assert.Equal("Moreno Ruiz", r4.At("name[0].family"));
        Assert.Equal("Elena", r4.At("name[0].given[0]"));
        Assert.Equal("Dr.", r4.At("name[0].prefix[0]"));
        Assert.Equal("Dr. Elena Moreno Ruiz", r4.At("name[0].text"));
        Assert.Null(r4.At("name[1]"));
        Assert.Equal("female", r4.At("gender"));
        Assert.Equal("1974-02-19", r4.At("birthDate"));
        Assert.Equal("(608) 555-0178", r4.At("telecom[0].value"));
        Assert.Equal("Madison", r4.At("address[0].city"));
        Assert.Equal("Suite 200", r4.At("address[0].line[1]"));
        Assert.Equal("PRV-880231", r4.At("identifier[0].value"));
        Assert.Equal("true", r4.At("active"));
        Assert.Equal("http://terminology.hl7.org/CodeSystem/v2-0360", r4.At("qualification[0].code.coding[0].system"));
        Assert.Equal("MD", r4.At("qualification[0].code.coding[0].code"));
        Assert.Null(r4["practitionerRole"]);
    }
}
