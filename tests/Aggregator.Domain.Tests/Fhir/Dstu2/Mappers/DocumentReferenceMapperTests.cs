namespace Aggregator.Domain.Tests.Fhir.Dstu2.Mappers;

/// <summary>DSTU2 document references: a discharge summary and a consult note addendum (the sample patients have none).</summary>
public sealed class DocumentReferenceMapperTests
{
    [Fact]
    public void Discharge_summary_keeps_type_attachment_and_status_and_its_indexed_time_becomes_date()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.Example("documentreference-discharge.json"));

        Assert.Equal("current", r4.At("status"));
        Assert.Equal("final", r4.At("docStatus"));
        Assert.Equal("18842-5", r4.At("type.coding[0].code"));
        Assert.Equal("Discharge summary", r4.At("type.coding[0].display"));
        Assert.Null(r4.At("type.coding[1].code"));
        Assert.Equal("unknown", r4.At("type.coding[1]._code.extension[0].valueCode"));
        Assert.Equal("2018-09-21T16:05:10.000Z", r4.At("date"));
        Assert.Null(r4["indexed"]);
        Assert.Null(r4["created"]);
        Assert.Equal("http://hl7.org/fhir/1.0/StructureDefinition/extension-DocumentReference.created", r4.At("extension[0].url"));
        Assert.Equal("2018-09-20T18:42:00.000Z", r4.At("extension[0].valueDateTime"));
        Assert.Equal("application/pdf", r4.At("content[0].attachment.contentType"));
        Assert.EndsWith("/Binary/DS-88120457", r4.At("content[0].attachment.url"), StringComparison.Ordinal);
        Assert.Equal("Castillo, Marisol", r4.At("subject.display"));
        Assert.Equal("Encounter/66003", r4.At("context.encounter[0].reference"));
    }

    [Fact]
    public void Consult_note_moves_class_format_and_context_to_their_R4_shapes()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.Example("documentreference-consult-note.json"));

        Assert.Equal("clinical-note", r4.At("category[0].coding[0].code"));
        Assert.Null(r4["class"]);
        Assert.Equal("urn:hl7-org:sdwg:ccda-structuredBody:2.1", r4.At("content[0].format.code"));
        Assert.Equal("18734", r4.At("content[0].attachment.size"));
        Assert.Equal("eQH0ZsVSlmI9w7N5BUHeKjiV4cA=", r4.At("content[0].attachment.hash"));
        Assert.Equal("Encounter/66012", r4.At("context.encounter[0].reference"));
        Assert.Equal("ServiceRequest/4471", r4.At("context.related[0].reference"));
        Assert.Equal("REF-2018-11873", r4.At("context.related[0].identifier.value"));
        Assert.Equal("394579002", r4.At("context.practiceSetting.coding[0].code"));
        Assert.Equal("appends", r4.At("relatesTo[0].code"));
        Assert.Equal("DocumentReference/88127790", r4.At("relatesTo[0].target.reference"));
        Assert.Equal("preliminary", r4.At("docStatus"));
        Assert.Equal("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", r4.At("securityLabel[0].coding[0].system"));
        Assert.Equal("Haddad", r4.At("contained[0].name[0].family"));
        Assert.Null(r4.At("contained[0].practitionerRole"));
        Assert.Equal("#author-1", r4.At("author[1].reference"));
    }
}
