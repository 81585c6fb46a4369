using System.Text.Json;
using System.Text.Json.Nodes;
using Aggregator.Domain.Records;

namespace Aggregator.Domain.Tests.Records;

/// <summary>The FHIR view of a merged record: one resource per item, references that lead somewhere inside it, a Provenance per item.</summary>
public sealed class FhirRecordViewTests
{
    private static readonly Guid Patient = Guid.Parse("0199a000-0000-7000-8000-000000000001");
    private static readonly Guid R4Connection = Guid.Parse("0199a000-0000-7000-8000-0000000000a1");
    private static readonly Guid Dstu2Connection = Guid.Parse("0199a000-0000-7000-8000-0000000000b2");
    private static readonly Guid PatientItem = Guid.Parse("0199a000-0000-7000-8000-000000000010");
    private static readonly Guid EncounterItem = Guid.Parse("0199a000-0000-7000-8000-000000000011");
    private static readonly Guid MedicationItem = Guid.Parse("0199a000-0000-7000-8000-000000000012");
    private static readonly DateTimeOffset Rebuilt = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void References_point_at_the_merged_patient_the_item_holding_the_source_or_a_supporting_resource_brought_along()
    {
        var view = Build();

        var medication = Assert.Single(view.Items, r => r.ResourceType == "MedicationRequest").Resource;
        Assert.Equal(MedicationItem.ToString(), medication["id"]!.GetValue<string>());
        Assert.Equal($"Patient/{Patient}", medication["subject"]!["reference"]!.GetValue<string>());
        // The DSTU2 order pointed at its own encounter; that encounter is merged into an item whose shown source is the R4 one.
        Assert.Equal($"Encounter/{EncounterItem}", medication["encounter"]!["reference"]!.GetValue<string>());
        var prescriber = medication["requester"]!["reference"]!.GetValue<string>();
        var practitioner = Assert.Single(view.Supporting);
        Assert.Equal($"urn:uuid:{practitioner.Id}", prescriber);
        Assert.Equal([practitioner.Id], Assert.Single(view.Items, r => r.ResourceType == "MedicationRequest").SupportingRefs);
        Assert.Equal("Dr. Ada Ng", practitioner.Resource["name"]![0]!["text"]!.GetValue<string>());
    }

    [Fact]
    public void A_reference_to_something_not_in_the_record_keeps_only_what_it_said()
    {
        var encounter = Assert.Single(Build().Items, r => r.ResourceType == "Encounter").Resource;

        var location = encounter["location"]![0]!["location"]!.AsObject();
        Assert.False(location.ContainsKey("reference"));
        Assert.Equal("Main Street Clinic", location["display"]!.GetValue<string>());
        var unnamed = encounter["serviceProvider"]!.AsObject();
        Assert.False(unnamed.ContainsKey("reference"));
        Assert.Equal("Organization at Epic (not in this record)", unnamed["display"]!.GetValue<string>());
    }

    [Fact]
    public void Each_item_has_a_provenance_of_its_id_naming_every_source_and_the_merge_rule()
    {
        var view = Build();

        var provenance = Assert.Single(view.Provenances, p => p.Id == EncounterItem.ToString()).Resource;
        Assert.Equal($"Encounter/{EncounterItem}", provenance["target"]![0]!["reference"]!.GetValue<string>());
        var sources = provenance["entity"]!.AsArray().Select(e => e!["what"]!["identifier"]!).Select(i => $"{i["system"]}|{i["value"]}").Order().ToList();
        Assert.Equal(new[] { $"urn:aggregator:connection:{R4Connection}|Encounter/enc-1", $"urn:aggregator:connection:{Dstu2Connection}|Encounter/77" }.Order(), sources);
        Assert.Contains("code+time", provenance["activity"]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
        var custodians = provenance["agent"]!.AsArray().Where(a => a!["type"]!["coding"]![0]!["code"]!.GetValue<string>() == "custodian")
            .Select(a => a!["who"]!["display"]!.GetValue<string>()).Order().ToList();
        Assert.Equal(["Epic", "NextGen"], custodians);
        Assert.Equal(3, view.Provenances.Count);
    }

    [Fact]
    public void The_patient_is_ours_with_the_identifiers_of_every_source_and_the_shown_sources_content()
    {
        var patient = Build().Patient!.Resource;

        Assert.Equal(Patient.ToString(), patient["id"]!.GetValue<string>());
        Assert.Equal("1970-04-02", patient["birthDate"]!.GetValue<string>());
        var identifiers = patient["identifier"]!.AsArray().Select(i => i!["value"]!.GetValue<string>()).Order().ToList();
        Assert.Equal(["E123", "MRN-9"], identifiers);
        Assert.False(patient["meta"]!.AsObject().ContainsKey("versionId"));
    }

    [Fact]
    public void A_document_points_at_our_content_endpoint_instead_of_the_providers_binary()
    {
        var documentItem = Guid.Parse("0199a000-0000-7000-8000-000000000013");
        var document = Source(R4Connection, "Epic", "DocumentReference", "doc-1", """
            {"resourceType":"DocumentReference","id":"doc-1","status":"current","subject":{"reference":"Patient/p-epic"},
             "content":[{"attachment":{"contentType":"text/plain","url":"https://epic.example/fhir/Binary/b-1"}}]}
            """);
        var view = FhirRecordView.Build(Patient, [Item(documentItem, "documents", null, Key(document))], [document], id => $"https://agg.example/v1/patients/{Patient}/documents/{id}/content");

        var url = view.Items[0].Resource["content"]![0]!["attachment"]!["url"]!.GetValue<string>();
        Assert.Equal($"https://agg.example/v1/patients/{Patient}/documents/{documentItem}/content", url);
    }

    [Fact]
    public void A_narrative_without_the_xhtml_namespace_gets_it_and_one_that_is_not_xml_is_dropped()
    {
        var withoutNamespace = Source(R4Connection, "NextGen", "Condition", "c-1",
            """{"resourceType":"Condition","id":"c-1","text":{"status":"generated","div":"<div>Asthma <b>mild</b></div>"},"subject":{"reference":"Patient/p"}}""");
        var broken = Source(R4Connection, "NextGen", "Condition", "c-2",
            """{"resourceType":"Condition","id":"c-2","text":{"status":"generated","div":"<div>Asthma <b>mild</div>"},"subject":{"reference":"Patient/p"}}""");
        var first = Guid.CreateVersion7();
        var second = Guid.CreateVersion7();

        var view = FhirRecordView.Build(Patient, [Item(first, "conditions", null, Key(withoutNamespace)), Item(second, "conditions", null, Key(broken))], [withoutNamespace, broken]);

        var div = view.Items.Single(i => i.ItemId == first).Resource["text"]!["div"]!.GetValue<string>();
        Assert.Equal("""<div xmlns="http://www.w3.org/1999/xhtml">Asthma <b>mild</b></div>""", div);
        Assert.Null(view.Items.Single(i => i.ItemId == second).Resource["text"]);
        Assert.NotNull(view.Items.Single(i => i.ItemId == second).Resource["subject"]);
    }

    [Fact]
    public void A_narrative_with_a_dtd_is_dropped()
    {
        var div = """<!DOCTYPE div [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><div>&b;&b;</div>""";
        Assert.Null(Narrative(div));
    }

    [Theory]
    [InlineData("""<div xmlns="http://www.w3.org/1999/xhtml">Asthma<script>alert(1)</script></div>""", """<div xmlns="http://www.w3.org/1999/xhtml">Asthma</div>""")]
    [InlineData("""<div xmlns="http://www.w3.org/1999/xhtml"><a href="javascript:alert(1)">Asthma</a></div>""", """<div xmlns="http://www.w3.org/1999/xhtml"><a>Asthma</a></div>""")]
    [InlineData("""<div xmlns="http://www.w3.org/1999/xhtml"><a href="java&#9;script:alert(1)">Asthma</a></div>""", """<div xmlns="http://www.w3.org/1999/xhtml"><a>Asthma</a></div>""")]
    [InlineData("""<div xmlns="http://www.w3.org/1999/xhtml"><a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">Asthma</a></div>""", """<div xmlns="http://www.w3.org/1999/xhtml"><a>Asthma</a></div>""")]
    [InlineData("""<div xmlns="http://www.w3.org/1999/xhtml"><p onclick="alert(1)">Asthma</p></div>""", """<div xmlns="http://www.w3.org/1999/xhtml"><p>Asthma</p></div>""")]
    [InlineData("""<div xmlns="http://www.w3.org/1999/xhtml">Asthma<svg><animate attributeName="href" values="javascript:alert(1)"/></svg></div>""", """<div xmlns="http://www.w3.org/1999/xhtml">Asthma</div>""")]
    [InlineData("""<div xmlns="http://www.w3.org/1999/xhtml"><p style="color: red; background: url(javascript:alert(1))">Asthma</p><form><input/></form></div>""", """<div xmlns="http://www.w3.org/1999/xhtml"><p style="color: rgba(255, 0, 0, 1)">Asthma</p></div>""")]
    [InlineData("""<div xmlns="http://www.w3.org/1999/xhtml"><table><tr><td colspan="2"><a href="https://example.org/x">Asthma</a> <b>mild</b></td></tr></table></div>""", """<div xmlns="http://www.w3.org/1999/xhtml"><table><tbody><tr><td colspan="2"><a href="https://example.org/x">Asthma</a> <b>mild</b></td></tr></tbody></table></div>""")]
    public void A_narrative_keeps_only_what_the_narrative_rules_permit(string div, string kept)
    {
        Assert.Equal(kept, Narrative(div));
    }

    private static string? Narrative(string div)
    {
        var condition = Source(R4Connection, "NextGen", "Condition", "c-1",
            new JsonObject { ["resourceType"] = "Condition", ["id"] = "c-1", ["text"] = new JsonObject { ["status"] = "generated", ["div"] = div } }.ToJsonString());
        var view = FhirRecordView.Build(Patient, [Item(Guid.CreateVersion7(), "conditions", null, Key(condition))], [condition]);
        return view.Items.Single().Resource["text"]?["div"]?.GetValue<string>();
    }

    [Fact]
    public void Security_labels_stay_and_a_reference_to_another_patient_is_not_taken_for_ours()
    {
        var patient = Source(R4Connection, "Epic", "Patient", "p-1", """{"resourceType":"Patient","id":"p-1"}""");
        var condition = Source(R4Connection, "Epic", "Condition", "c-1", """
            {"resourceType":"Condition","id":"c-1","meta":{"versionId":"3","security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]},
             "subject":{"reference":"Patient/p-1"},"asserter":{"reference":"Patient/mother-7","display":"Her mother"}}
            """);

        var view = FhirRecordView.Build(Patient, [Item(PatientItem, "demographics", null, Key(patient)), Item(EncounterItem, "conditions", null, Key(condition))], [patient, condition]);

        var resource = view.Items.Single().Resource;
        Assert.Equal("R", resource["meta"]!["security"]![0]!["code"]!.GetValue<string>());
        Assert.Null(resource["meta"]!["versionId"]);
        Assert.Equal($"Patient/{Patient}", resource["subject"]!["reference"]!.GetValue<string>());
        Assert.False(resource["asserter"]!.AsObject().ContainsKey("reference"));
        Assert.Equal("Her mother", resource["asserter"]!["display"]!.GetValue<string>());
    }

    [Fact]
    public void Rendering_item_by_item_with_only_the_content_each_item_asks_for_gives_the_same_view()
    {
        var (items, sources) = Record();
        var whole = FhirRecordView.Build(Patient, items, sources);
        var content = sources.ToDictionary(s => s, s => System.Text.Encoding.UTF8.GetBytes(s.Parse().GetRawText()));
        // As a rebuild holds a large record: what the view brings along keeps its content, the rest lets go of theirs.
        foreach (var source in sources.Where(s => !FhirRecordView.BringsAlong(s.Type)))
        {
            source.ReleaseContent();
        }

        var view = FhirRecordView.Prepare(Patient, items, sources);
        var resources = new List<string>();
        var provenances = new List<string>();
        foreach (var item in items)
        {
            var needed = view.ContentFor(item).ToList();
            foreach (var source in needed)
            {
                source.LoadContent(content[source]);
            }

            var (resource, provenance) = view.Render(item)!.Value;
            resources.Add(resource.Resource.ToJsonString());
            provenances.Add(provenance.Resource.ToJsonString());
            foreach (var source in needed)
            {
                source.ReleaseContent();
            }
        }

        // The merged patient needed both patients' content (their identifiers are merged); the others only what they show.
        Assert.Equal(2, view.ContentFor(items[0]).Count());
        Assert.Equal([whole.Patient!.Resource.ToJsonString(), .. whole.Items.Select(r => r.Resource.ToJsonString())], resources);
        Assert.Equal(whole.Provenances.Select(p => p.Resource.ToJsonString()), provenances);
        Assert.Equal(whole.Supporting.Select(r => r.Resource.ToJsonString()), view.Supporting.Select(r => r.Resource.ToJsonString()));
    }

    [Fact]
    public void A_source_whose_content_is_released_and_not_read_again_renders_nothing_rather_than_something_else()
    {
        var (items, sources) = Record();
        var encounter = sources.Single(s => s.ResourceType == "Encounter" && s.ResourceId == "enc-1");
        encounter.ReleaseContent();

        var view = FhirRecordView.Prepare(Patient, items, sources);

        Assert.Null(view.Render(items[1]));
        Assert.Throws<InvalidOperationException>(() => encounter.Parse());
        Assert.NotNull(view.Render(items[2]));
    }

    private static FhirRecordView Build()
    {
        var (items, sources) = Record();
        return FhirRecordView.Build(Patient, items, sources);
    }

    private static (FhirViewItem[] Items, StoredResource[] Sources) Record()
    {
        var epicPatient = Source(R4Connection, "Epic", "Patient", "p-epic", """
            {"resourceType":"Patient","id":"p-epic","meta":{"versionId":"4","profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]},
             "identifier":[{"system":"urn:oid:1.2.3","value":"E123"}],"birthDate":"1970-04-02","gender":"female"}
            """);
        var nextgenPatient = Source(Dstu2Connection, "NextGen", "Patient", "42", """
            {"resourceType":"Patient","id":"42","identifier":[{"system":"urn:oid:9.9","value":"MRN-9"},{"system":"urn:oid:1.2.3","value":"E123"}],"birthDate":"1970-04-02"}
            """);
        var epicEncounter = Source(R4Connection, "Epic", "Encounter", "enc-1", """
            {"resourceType":"Encounter","id":"enc-1","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/p-epic"},
             "location":[{"location":{"reference":"Location/not-synced","display":"Main Street Clinic"}}],"serviceProvider":{"reference":"Organization/gone"}}
            """);
        var nextgenEncounter = Source(Dstu2Connection, "NextGen", "Encounter", "77", """
            {"resourceType":"Encounter","id":"77","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/42"}}
            """);
        // A DSTU2 MedicationOrder, stored converted to R4: the view speaks R4 while the sources keep the provider's names.
        var order = Source(Dstu2Connection, "NextGen", "MedicationOrder", "m-5", """
            {"resourceType":"MedicationRequest","id":"m-5","status":"active","intent":"order","subject":{"reference":"Patient/42"},
             "encounter":{"reference":"Encounter/77"},"requester":{"reference":"Practitioner/dr-1"},"medicationCodeableConcept":{"text":"Lisinopril 10 MG"}}
            """);
        var doctor = Source(Dstu2Connection, "NextGen", "Practitioner", "dr-1", """{"resourceType":"Practitioner","id":"dr-1","name":[{"text":"Dr. Ada Ng"}]}""");

        FhirViewItem[] items =
        [
            Item(PatientItem, "demographics", "same-patient", Key(epicPatient), Key(nextgenPatient)),
            Item(EncounterItem, "encounters", "code+time", Key(epicEncounter), Key(nextgenEncounter)),
            Item(MedicationItem, "medications", null, Key(order)),
        ];
        return (items, [epicPatient, nextgenPatient, epicEncounter, nextgenEncounter, order, doctor]);
    }

    private static FhirViewItem Item(Guid id, string category, string? mergedBy, SourceKey shown, params SourceKey[] others) =>
        new(id, category, Rebuilt, mergedBy, [shown, .. others], shown);

    private static SourceKey Key(StoredResource source) => new(source.ConnectionId, source.ResourceType, source.ResourceId);

    private static StoredResource Source(Guid connection, string provider, string type, string id, string json) =>
        new(connection, provider, type, id, new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero), JsonDocument.Parse(json).RootElement);
}
