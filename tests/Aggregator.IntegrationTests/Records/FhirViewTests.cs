using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Aggregator.IntegrationTests.Infrastructure;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Task = System.Threading.Tasks.Task;

namespace Aggregator.IntegrationTests.Records;

/// <summary>
/// The FHIR R4 view of a merged record, read by a FHIR client: the same person at Epic (R4) and at
/// NextGen's DSTU2 base, one Bundle that Firely's parser and validator accept, each item once with
/// its Provenance, every reference resolvable inside the Bundle.
/// </summary>
public sealed class FhirViewTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox, jobServer: true)
{
    private static readonly FhirJsonDeserializer Deserializer = new(new DeserializerSettings());

    [Fact]
    public async Task Everything_is_one_valid_bundle_with_each_merged_item_once_its_provenance_and_resolvable_references()
    {
        var (patientId, _, dstu2) = await ConnectPersonAsync();

        var response = await Tenant.GetAsync(new Uri($"/fhir/r4/Patient/{patientId}/$everything", UriKind.Relative), TestContext.Current.CancellationToken);
        var json = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/fhir+json", response.Content.Headers.ContentType?.MediaType);
        var bundle = (Bundle)Deserializer.DeserializeResource(json);
        Assert.Equal(Bundle.BundleType.Searchset, bundle.Type);
        var outcome = FhirValidation.Validate(bundle);
        Assert.True(FhirValidation.Errors(outcome).Count == 0, FhirValidation.Describe(outcome));

        // Each merged item of the REST record is one resource under the item's id, with a Provenance naming all its sources.
        var items = await Tenant.AllItemsAsync(patientId);
        var resources = bundle.Entry.Select(e => e.Resource!).ToList();
        Assert.All(resources.GroupBy(r => (r.TypeName, r.Id)), same => Assert.Single(same));
        var provenances = resources.OfType<Provenance>().ToDictionary(p => p.Id!);
        foreach (var item in items)
        {
            var id = item.GetProperty("id").GetString()!;
            Assert.Contains(resources, r => r.Id == id && r is not Provenance);
            Assert.Equal(item.GetProperty("sources").GetArrayLength(), provenances[id].Entity.Count);
        }

        Assert.Equal(items.Count + 1, provenances.Count); // and the merged patient's own
        Assert.Equal(patientId.ToString(), Assert.Single(resources.OfType<Patient>()).Id);

        // Every reference leads to an entry of the Bundle.
        var fullUrls = bundle.Entry.Select(e => e.FullUrl!).ToHashSet(StringComparer.Ordinal);
        var firstUrl = bundle.Entry[0].FullUrl!;
        var fhirBase = firstUrl[..(firstUrl.IndexOf("/fhir/r4/", StringComparison.Ordinal) + "/fhir/r4/".Length)];
        var references = References(JsonDocument.Parse(json).RootElement).Where(r => !r.StartsWith('#')).ToList();
        Assert.NotEmpty(references);
        Assert.All(references, r => Assert.Contains(r.StartsWith("urn:uuid:", StringComparison.Ordinal) ? r : fhirBase + r, fullUrls));
        Assert.Contains(references, r => r.StartsWith("urn:uuid:", StringComparison.Ordinal)); // a Practitioner or Organization brought along

        // The DSTU2 source is named as the provider named it.
        Assert.Contains(provenances.Values.SelectMany(p => p.Entity), e => e.What!.Identifier!.System == $"urn:aggregator:connection:{dstu2}" && e.What.Type == "MedicationOrder");
    }

    [Fact]
    public async Task Searches_reads_and_media_types_answer_as_a_fhir_server_would()
    {
        var (patientId, _, _) = await ConnectPersonAsync();
        var everything = (Bundle)Deserializer.DeserializeResource(await Tenant.GetStringAsync(new Uri($"/fhir/r4/Patient/{patientId}/$everything", UriKind.Relative), TestContext.Current.CancellationToken));
        var conditions = everything.Entry.Select(e => e.Resource).OfType<Condition>().ToList();
        Assert.NotEmpty(conditions);

        var search = await GetBundleAsync($"/fhir/r4/Condition?patient=Patient/{patientId}&_revinclude=Provenance:target");
        Assert.Equal(conditions.Count, search.Total);
        var matches = search.Entry.Where(e => e.Search!.Mode == Bundle.SearchEntryMode.Match).Select(e => e.Resource!).ToList();
        Assert.Equal(conditions.Select(c => c.Id).Order(), matches.Select(r => r.Id).Order());
        Assert.All(matches, r => Assert.IsType<Condition>(r));
        Assert.Equal(conditions.Select(c => c.Id).Order(), search.Entry.Select(e => e.Resource).OfType<Provenance>().Select(p => p.Id).Order());

        using var asJson = new HttpRequestMessage(HttpMethod.Get, $"/fhir/r4/Condition/{conditions[0].Id}");
        asJson.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var read = await Tenant.SendAsync(asJson, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal("application/json", read.Content.Headers.ContentType?.MediaType);
        var condition = (Condition)Deserializer.DeserializeResource(await read.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.True(condition.IsExactly(conditions[0]));

        using var asXml = new HttpRequestMessage(HttpMethod.Get, $"/fhir/r4/Patient/{patientId}");
        asXml.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/fhir+xml"));
        var xml = await Tenant.SendAsync(asXml, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotAcceptable, xml.StatusCode);

        // A filter we do not apply is refused, not silently ignored; asked to be lenient, we ignore it and the self link says what was applied.
        var filtered = await Tenant.GetAsync(new Uri($"/fhir/r4/Observation?patient={patientId}&code=4548-4", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, filtered.StatusCode);
        Assert.Contains("code", ((OperationOutcome)Deserializer.DeserializeResource(await filtered.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))).Issue[0].Diagnostics, StringComparison.Ordinal);
        using var lenient = new HttpRequestMessage(HttpMethod.Get, $"/fhir/r4/Observation?patient={patientId}&code=4548-4");
        lenient.Headers.Add("Prefer", "handling=lenient");
        var ignored = (Bundle)Deserializer.DeserializeResource(await (await Tenant.SendAsync(lenient, TestContext.Current.CancellationToken)).Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.DoesNotContain("code=", ignored.Link.Single(l => l.Relation == "self").Url, StringComparison.Ordinal);

        var noPatient = await Tenant.GetAsync(new Uri("/fhir/r4/Condition", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, noPatient.StatusCode);
        Assert.IsType<OperationOutcome>(Deserializer.DeserializeResource(await noPatient.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)));

        var metadata = await Api.CreateClient().GetStringAsync(new Uri("/fhir/r4/metadata", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(FHIRVersion.N4_0_1, ((CapabilityStatement)Deserializer.DeserializeResource(metadata)).FhirVersion);
    }

    [Fact]
    public async Task A_session_token_reads_its_own_patient_and_gets_404_for_another()
    {
        var (patientId, _, _) = await ConnectPersonAsync();
        var other = (await Tenant.PutPatientAsync("someone-else")).GetProperty("id").GetGuid();
        var minted = await Tenant.PostAsJsonAsync(new Uri($"/v1/patients/{patientId}/session-tokens", UriKind.Relative), new { }, TestContext.Current.CancellationToken);
        var session = Api.CreateClient().WithBearer((await minted.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("token").GetString()!);

        var own = await session.GetAsync(new Uri($"/fhir/r4/Patient/{patientId}/$everything?_type=Patient,Condition", UriKind.Relative), TestContext.Current.CancellationToken);
        var stranger = await session.GetAsync(new Uri($"/fhir/r4/Patient/{other}/$everything", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        var bundle = (Bundle)Deserializer.DeserializeResource(await own.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.All(bundle.Entry, e => Assert.Contains(e.Resource!.TypeName, new[] { "Patient", "Condition" }));
        Assert.Equal(HttpStatusCode.NotFound, stranger.StatusCode);
        Assert.IsType<OperationOutcome>(Deserializer.DeserializeResource(await stranger.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)));

        // Another tenant's key finds neither the record nor one of its resources by id.
        var condition = bundle.Entry.Select(e => e.Resource).OfType<Condition>().First();
        var (otherTenant, _) = await Api.CreateTenantClientAsync("Other Health", ConnectedPatients.ReturnUrl);
        Assert.Equal(HttpStatusCode.NotFound, (await otherTenant.GetAsync(new Uri($"/fhir/r4/Condition/{condition.Id}", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await otherTenant.GetAsync(new Uri($"/fhir/r4/Patient/{patientId}/$everything", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await otherTenant.GetAsync(new Uri($"/v1/patients/{patientId}/audit-events", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
    }

    /// <summary>Generated person 0 (read only here) at Epic R4 and at NextGen's DSTU2 base, as one patient.</summary>
    private async Task<(Guid PatientId, Guid Epic, Guid Dstu2)> ConnectPersonAsync()
    {
        var (patientId, epic) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-epic-r4", Sandbox.Generated("epic", "R4", 0), "fhir-view");
        var dstu2 = await Api.ConnectExistingAsync(Tenant, Sandbox, patientId, "sandbox-nextgen-dstu2", Sandbox.Generated("nextgen", "DSTU2", 0));
        Assert.Equal("succeeded", (await Tenant.WaitForRunAsync(epic)).GetProperty("status").GetString());
        Assert.Equal("succeeded", (await Tenant.WaitForRunAsync(dstu2)).GetProperty("status").GetString());
        return (patientId, epic, dstu2);
    }

    private static IEnumerable<string> References(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().SelectMany(p => p.Name == "reference" && p.Value.ValueKind == JsonValueKind.String ? [p.Value.GetString()!] : References(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().SelectMany(References),
        _ => [],
    };

    private async Task<Bundle> GetBundleAsync(string path) =>
        (Bundle)Deserializer.DeserializeResource(await Tenant.GetStringAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken));
}
