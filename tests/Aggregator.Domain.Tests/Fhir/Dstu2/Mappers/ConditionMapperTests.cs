using System.Text.Json.Nodes;

namespace Aggregator.Domain.Tests.Fhir.Dstu2.Mappers;

public sealed class ConditionMapperTests
{
    [Fact]
    public void SMART_condition_keeps_code_onset_and_patient_and_gets_coded_statuses()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.First("patient-1032702.fhir-bundle.json", "Condition"));

        Assert.Equal("Patient/smart-1032702", r4.At("subject.reference"));
        Assert.Null(r4["patient"]);
        Assert.Equal("442311008", r4.At("code.coding[0].code"));
        Assert.Equal("2007-12-14", r4.At("onsetDateTime"));
        Assert.Equal("http://terminology.hl7.org/CodeSystem/condition-clinical", r4.At("clinicalStatus.coding[0].system"));
        Assert.Equal("active", r4.At("clinicalStatus.coding[0].code"));
        Assert.Equal("http://terminology.hl7.org/CodeSystem/condition-ver-status", r4.At("verificationStatus.coding[0].system"));
        Assert.Equal("confirmed", r4.At("verificationStatus.coding[0].code"));
        Assert.Equal("Confirmed", r4.At("verificationStatus.coding[0].display"));
        Assert.Contains("Single liveborn", r4.At("text.div"), StringComparison.Ordinal);
    }

    [Fact]
    public void Abated_condition_reads_resolved_and_keeps_its_abatement_date()
    {
        var condition = Dstu2Samples.First("Abbott_Buena_66.json", "Condition", resource => resource["abatementDateTime"] is not null);

        var r4 = R4Assert.Converts(condition);

        Assert.Equal("195662009", r4.At("code.coding[0].code"));
        Assert.Equal("2014-06-14T06:32:52+00:00", r4.At("abatementDateTime"));
        Assert.Equal("resolved", r4.At("clinicalStatus.coding[0].code"));
    }

    [Theory]
    [InlineData(true, "resolved")]
    [InlineData(false, "active")]
    public void AbatementBoolean_which_R4_dropped_is_carried_by_the_clinical_status(bool abated, string clinicalStatus)
    {
        var condition = Dstu2Samples.First("Abbott_Buena_66.json", "Condition", resource => resource["abatementDateTime"] is not null);
        condition.Remove("abatementDateTime");
        condition["abatementBoolean"] = abated;

        var r4 = R4Assert.Converts(condition);

        Assert.Equal(clinicalStatus, r4.At("clinicalStatus.coding[0].code"));
        Assert.Null(r4["abatementBoolean"]);
    }

    [Fact]
    public void Date_recorded_becomes_recorded_date_and_category_a_list()
    {
        var condition = Dstu2Samples.First("patient-1032702.fhir-bundle.json", "Condition");
        condition["dateRecorded"] = "2008-01-02";
        condition["category"] = new JsonObject { ["text"] = "Diagnosis" };
        condition["verificationStatus"] = "unknown";

        var r4 = R4Assert.Converts(condition);

        Assert.Equal("2008-01-02", r4.At("recordedDate"));
        Assert.Equal("Diagnosis", r4.At("category[0].text"));
        Assert.Null(r4["verificationStatus"]);
    }
}
