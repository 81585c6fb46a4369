using System.Text.Json.Nodes;

namespace Aggregator.Domain.Tests.Fhir.Dstu2.Mappers;

public sealed class DiagnosticReportMapperTests
{
    [Fact]
    public void Metabolic_panel_keeps_code_times_subject_and_every_result()
    {
        var report = Dstu2Samples.First("Abbott_Buena_66.json", "DiagnosticReport");

        var r4 = R4Assert.Converts(report);

        Assert.Equal("final", r4.At("status"));
        Assert.Equal("51990-0", r4.At("code.coding[0].code"));
        Assert.Equal("2011-08-01T14:05:42+00:00", r4.At("effectiveDateTime"));
        Assert.Equal("2011-08-01T14:05:42+00:00", r4.At("issued"));
        Assert.Equal("urn:uuid:099e7de7-c952-40e2-9b4e-0face78c9d80", r4.At("subject.reference"));
        Assert.Equal(report["result"]!.AsArray().Count, r4["result"]!.AsArray().Count);
        Assert.Equal("Glucose", r4.At("result[0].display"));
    }

    [Fact]
    public void Category_performer_and_request_become_lists()
    {
        var report = Dstu2Samples.First("Abbott_Buena_66.json", "DiagnosticReport");
        report["category"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://hl7.org/fhir/v2/0074", ["code"] = "CH" }) };
        report["performer"] = new JsonObject { ["reference"] = "Organization/lab" };
        report["request"] = new JsonArray(new JsonObject { ["reference"] = "DiagnosticOrder/4" });
        report["codedDiagnosis"] = new JsonArray(new JsonObject { ["text"] = "Normal" });

        var r4 = R4Assert.Converts(report);

        Assert.Equal("http://terminology.hl7.org/CodeSystem/v2-0074", r4.At("category[0].coding[0].system"));
        Assert.Equal("CH", r4.At("category[0].coding[0].code"));
        Assert.Equal("Organization/lab", r4.At("performer[0].reference"));
        Assert.Equal("ServiceRequest/4", r4.At("basedOn[0].reference"));
        Assert.Equal("Normal", r4.At("conclusionCode[0].text"));
    }
}
