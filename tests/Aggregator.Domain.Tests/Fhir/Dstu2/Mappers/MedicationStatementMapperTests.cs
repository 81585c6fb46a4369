using System.Text.Json.Nodes;

namespace Aggregator.Domain.Tests.Fhir.Dstu2.Mappers;

/// <summary>DSTU2 medication statements (the sample patients have none).</summary>
public sealed class MedicationStatementMapperTests
{
    [Fact]
    public void Active_statement_keeps_medication_period_and_dose_with_its_patient_friendly_text()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.Example("medicationstatements.json", "5517304"));

        Assert.Equal("active", r4.At("status"));
        Assert.Equal("Patient/70412", r4.At("subject.reference"));
        Assert.Equal("Castillo, Marisol", r4.At("subject.display"));
        Assert.Null(r4["patient"]);
        Assert.Equal("197361", r4.At("medicationCodeableConcept.coding[0].code"));
        Assert.Equal("amlodipine 5 mg oral tablet", r4.At("medicationCodeableConcept.text"));
        Assert.Equal("2018-05-15T08:00:00.000-05:00", r4.At("effectivePeriod.start"));
        Assert.Equal("2018-05-14T10:24:51.000-05:00", r4.At("dateAsserted"));
        Assert.Equal("MedicationRequest/5517290", r4.At("derivedFrom[0].reference"));
        Assert.Equal("5.0", r4.At("dosage[0].doseAndRate[0].doseQuantity.value"));
        Assert.Equal("mg", r4.At("dosage[0].doseAndRate[0].doseQuantity.unit"));
        Assert.Equal("Daily", r4.At("dosage[0].timing.code.text"));
        Assert.Equal("d", r4.At("dosage[0].timing.repeat.periodUnit"));
        Assert.Equal("PO", r4.At("dosage[0].route.text"));
        Assert.Equal("Take 1 tablet (5 mg) by mouth once a day.", r4.At("dosage[0]._text.extension[0].valueString"));
    }

    [Fact]
    public void Statement_in_error_keeps_its_contained_compound_medication()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.Example("medicationstatements.json", "5517389"));

        Assert.Equal("entered-in-error", r4.At("status"));
        Assert.Equal("#cmpd-88410", r4.At("medicationReference.reference"));
        Assert.Equal("Medication", r4.At("contained[0].resourceType"));
        Assert.Equal("#cmpd-88410-a", r4.At("contained[0].ingredient[0].itemReference.reference"));
        Assert.Equal("2193", r4.At("contained[1].code.coding[0].code"));
        Assert.Equal("313002", r4.At("contained[2].code.coding[0].code"));
        Assert.Equal("5", r4.At("dosage[0].timing.repeat.boundsDuration.value"));
        Assert.Equal("d", r4.At("dosage[0].timing.repeat.boundsDuration.code"));
        Assert.Equal("h", r4.At("dosage[0].timing.repeat.periodUnit"));
    }

    [Fact]
    public void Was_not_taken_becomes_status_not_taken_with_the_reason()
    {
        var statement = Dstu2Samples.Example("medicationstatements.json", "5517304");
        statement["wasNotTaken"] = true;
        statement["reasonNotTaken"] = new JsonArray(new JsonObject { ["text"] = "Patient refused" });

        var r4 = R4Assert.Converts(statement);

        Assert.Equal("not-taken", r4.At("status"));
        Assert.Equal("Patient refused", r4.At("statusReason[0].text"));
    }
}
