using System.Text.Json.Nodes;

namespace Aggregator.Domain.Tests.Fhir.Dstu2.Mappers;

public sealed class MedicationOrderMapperTests
{
    [Fact]
    public void Synthea_order_becomes_a_medication_request_authored_on_its_date_written()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.First("Abbott_Buena_66.json", "MedicationOrder"));

        Assert.Equal("MedicationRequest", r4.At("resourceType"));
        Assert.Equal("order", r4.At("intent"));
        Assert.Equal("active", r4.At("status"));
        Assert.Equal("1992-09-07", r4.At("authoredOn"));
        Assert.Null(r4["dateWritten"]);
        Assert.Equal("urn:uuid:099e7de7-c952-40e2-9b4e-0face78c9d80", r4.At("subject.reference"));
        Assert.Equal("849727", r4.At("medicationCodeableConcept.coding[0].code"));
        Assert.Equal("Naproxen sodium 220 MG [Aleve]", r4.At("medicationCodeableConcept.text"));
        Assert.Equal("urn:uuid:01bca6d7-2b05-46d0-9f65-38cee7afeecf", r4.At("reasonReference[0].reference"));
    }

    [Fact]
    public void SMART_order_keeps_its_dosage_timing_and_dispense_request()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.First("patient-1032702.fhir-bundle.json", "MedicationOrder"));

        Assert.Equal("10 mL bid", r4.At("dosageInstruction[0].text"));
        Assert.Equal("2", r4.At("dosageInstruction[0].timing.repeat.frequency"));
        Assert.Equal("d", r4.At("dosageInstruction[0].timing.repeat.periodUnit"));
        Assert.Null(r4.At("dosageInstruction[0].timing.repeat.periodUnits"));
        Assert.Equal("2008-04-05", r4.At("dosageInstruction[0].timing.repeat.boundsPeriod.start"));
        Assert.Equal("1", r4.At("dispenseRequest.numberOfRepeatsAllowed"));
        Assert.Equal("30", r4.At("dispenseRequest.expectedSupplyDuration.value"));
        Assert.Equal("d", r4.At("dispenseRequest.expectedSupplyDuration.code"));
    }

    [Fact]
    public void Stopped_order_stays_stopped()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.First("Abbott_Buena_66.json", "MedicationOrder", candidate => candidate.At("status") == "stopped"));

        Assert.Equal("stopped", r4.At("status"));
    }

    [Fact]
    public void Malformed_dosage_text_is_left_out_rather_than_failing_the_order()
    {
        var order = Dstu2Samples.First("patient-1134281.fhir-bundle.json", "MedicationOrder", candidate => candidate.At("id") == "smart-MedicationOrder-115");

        var r4 = R4Assert.Converts(order);

        Assert.Null(r4["dosageInstruction"]);
        Assert.Equal("352027", r4.At("medicationCodeableConcept.coding[0].code"));
    }

    [Fact]
    public void Prescriber_becomes_requester_and_dose_and_rate_move_into_dose_and_rate()
    {
        var order = Dstu2Samples.First("patient-1032702.fhir-bundle.json", "MedicationOrder");
        order["prescriber"] = new JsonObject { ["reference"] = "Practitioner/3", ["display"] = "Dr. Adams" };
        order["priorPrescription"] = new JsonObject { ["reference"] = "MedicationOrder/41" };
        var dosage = order["dosageInstruction"]![0]!.AsObject();
        dosage["doseQuantity"] = new JsonObject { ["value"] = 10, ["unit"] = "mL", ["system"] = "http://unitsofmeasure.org/", ["code"] = "mL" };
        dosage["additionalInstructions"] = new JsonObject { ["text"] = "with food" };

        var r4 = R4Assert.Converts(order);

        Assert.Equal("Practitioner/3", r4.At("requester.reference"));
        Assert.Equal("MedicationRequest/41", r4.At("priorPrescription.reference"));
        Assert.Equal("10", r4.At("dosageInstruction[0].doseAndRate[0].doseQuantity.value"));
        Assert.Equal("http://unitsofmeasure.org", r4.At("dosageInstruction[0].doseAndRate[0].doseQuantity.system"));
        Assert.Equal("with food", r4.At("dosageInstruction[0].additionalInstruction[0].text"));
    }
}
