using System.Text.Json.Nodes;

namespace Aggregator.Domain.Tests.Fhir.Dstu2.Mappers;

public sealed class MedicationDispenseMapperTests
{
    [Fact]
    public void SMART_dispense_keeps_quantity_supply_and_hand_over_and_points_at_the_medication_request()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.First("patient-1081332.fhir-bundle.json", "MedicationDispense"));

        Assert.Equal("completed", r4.At("status"));
        Assert.Equal("Patient/smart-1081332", r4.At("subject.reference"));
        Assert.Equal("MedicationRequest/smart-MedicationOrder-102", r4.At("authorizingPrescription[0].reference"));
        Assert.Equal("308189", r4.At("medicationCodeableConcept.coding[0].code"));
        Assert.Equal("75", r4.At("quantity.value"));
        Assert.Equal("{tablets}", r4.At("quantity.code"));
        Assert.Equal("7", r4.At("daysSupply.value"));
        Assert.Equal("2004-07-13", r4.At("whenHandedOver"));
    }

    [Fact]
    public void Dispenser_becomes_performer_and_a_substitution_says_it_was_made()
    {
        var dispense = Dstu2Samples.First("patient-1081332.fhir-bundle.json", "MedicationDispense");
        dispense["dispenser"] = new JsonObject { ["reference"] = "Practitioner/5" };
        dispense["substitution"] = new JsonObject { ["type"] = new JsonObject { ["text"] = "generic" } };

        var r4 = R4Assert.Converts(dispense);

        Assert.Equal("Practitioner/5", r4.At("performer[0].actor.reference"));
        Assert.Equal("true", r4.At("substitution.wasSubstituted"));
        Assert.Equal("generic", r4.At("substitution.type.text"));
    }
}
