namespace Aggregator.Domain.Tests.Fhir.Dstu2.Mappers;

/// <summary>A DSTU2 blood glucose meter (the sample patients have no Device).</summary>
public sealed class DeviceMapperTests
{
    [Fact]
    public void Glucose_meter_keeps_type_UDI_model_status_and_patient()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.Example("device-glucometer.json"));

        Assert.Equal("337414009", r4.At("type.coding[0].code"));
        Assert.Equal("Blood glucose meter", r4.At("type.text"));
        Assert.Equal("(01)00850927341157(17)221130(10)GL4471(21)GM20931877", r4.At("udiCarrier[0].carrierHRF"));
        Assert.Null(r4["udi"]);
        Assert.Equal("active", r4.At("status"));
        Assert.Equal("GM-200", r4.At("modelNumber"));
        Assert.Null(r4["model"]);
        Assert.Equal("Northfield Diagnostics", r4.At("manufacturer"));
        Assert.Equal("2017-11-02", r4.At("manufactureDate"));
        Assert.Equal("2022-11-30", r4.At("expirationDate"));
        Assert.Null(r4["expiry"]);
        Assert.Equal("GL4471", r4.At("lotNumber"));
        Assert.Equal("GM20931877", r4.At("identifier[0].value"));
        Assert.Equal("Patient/70412", r4.At("patient.reference"));
        Assert.Equal("(608) 555-0163", r4.At("contact[0].value"));
        Assert.StartsWith("Meter issued", r4.At("note[0].text"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("available", "active")]
    [InlineData("not-available", "inactive")]
    [InlineData("entered-in-error", "entered-in-error")]
    public void Availability_becomes_the_R4_status(string status, string r4Status)
    {
        var device = Dstu2Samples.Example("device-glucometer.json");
        device["status"] = status;
        device["version"] = "2.1";

        var r4 = R4Assert.Converts(device);

        Assert.Equal(r4Status, r4.At("status"));
        Assert.Equal("2.1", r4.At("version[0].value"));
    }
}
