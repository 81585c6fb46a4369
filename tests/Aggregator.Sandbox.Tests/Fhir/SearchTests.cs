using System.Net;
using System.Text.Json.Nodes;
using Aggregator.Sandbox.Tests.Hosting;

namespace Aggregator.Sandbox.Tests.Fhir;

/// <summary>Searches behave like a real FHIR server's: paging, date filters, media types, persona quirks, errors.</summary>
public sealed class SearchTests(SamplesSandbox sandbox)
{
    // Adán Pulido has the most Observations of the samples (365).
    private const string BusiestPatient = "d39173c2-7dc5-4a08-aba0-3f14f6b70d94";

    private Uri R4 => sandbox.Server.FhirBase("nextgen", "r4");

    [Fact]
    public async Task Paging_returns_every_resource_of_a_search_exactly_once()
    {
        using var client = await sandbox.PatientClientAsync("nextgen", "r4", BusiestPatient);

        var pages = await client.SearchAllPagesAsync(new Uri(R4, $"Observation?patient={BusiestPatient}&_count=17"));

        var ids = pages.SelectMany(p => p.Matches()).Select(r => (string)r["id"]!).ToList();
        Assert.Equal(365, ids.Count);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(pages, p => Assert.Equal(365, (int)p["total"]!));
        Assert.All(pages.SkipLast(1), p => Assert.Equal(17, p.Matches().Count()));
        Assert.Equal(22, pages.Count);
    }

    [Fact]
    public async Task Page_size_is_capped_at_the_personas_maximum()
    {
        using var client = await sandbox.PatientClientAsync("cerner", "r4", $"c-{BusiestPatient}");
        var cerner = sandbox.Server.FhirBase("cerner", "r4");

        var page = await client.GetJsonAsync(new Uri(cerner, $"Observation?patient=c-{BusiestPatient}&_count=500"));

        Assert.Equal(20, page.Matches().Count());
        Assert.Equal(365, (int)page["total"]!);
        Assert.NotNull(FhirHttp.NextLink(page));
    }

    [Fact]
    public async Task LastUpdated_filters_with_each_prefix_select_the_right_resources()
    {
        using var client = await sandbox.PatientClientAsync("nextgen", "r4", BusiestPatient);
        var all = (await client.SearchAllPagesAsync(new Uri(R4, $"Observation?patient={BusiestPatient}&_count=200")))
            .SelectMany(p => p.Matches())
            .Select(r => (Id: (string)r["id"]!, LastUpdated: DateTimeOffset.Parse((string)r["meta"]!["lastUpdated"]!, System.Globalization.CultureInfo.InvariantCulture)))
            .ToList();
        var instants = all.Select(r => r.LastUpdated).Distinct().Order().ToList();
        var pivot = instants[instants.Count / 2];
        var pivotText = pivot.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);

        var expectations = new Dictionary<string, Func<DateTimeOffset, bool>>
        {
            ["gt"] = t => t > pivot,
            ["ge"] = t => t >= pivot,
            ["lt"] = t => t < pivot,
            ["le"] = t => t <= pivot,
            ["eq"] = t => t == pivot,
        };
        foreach (var (prefix, selects) in expectations)
        {
            var served = (await client.SearchAllPagesAsync(new Uri(R4, $"Observation?patient={BusiestPatient}&_lastUpdated={prefix}{Uri.EscapeDataString(pivotText)}&_count=200")))
                .SelectMany(p => p.Matches()).Select(r => (string)r["id"]!).Order().ToList();
            var expected = all.Where(r => selects(r.LastUpdated)).Select(r => r.Id).Order().ToList();
            Assert.NotEmpty(expected);
            Assert.Equal(expected, served);
        }

        // A value of second precision covers that whole second: gt excludes everything updated within it.
        var second = new DateTimeOffset(pivot.UtcDateTime.Ticks - (pivot.UtcDateTime.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        var secondText = second.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        var afterSecond = (await client.SearchAllPagesAsync(new Uri(R4, $"Observation?patient={BusiestPatient}&_lastUpdated=gt{Uri.EscapeDataString(secondText)}&_count=200")))
            .SelectMany(p => p.Matches()).Count();
        Assert.Equal(all.Count(r => r.LastUpdated >= second.AddSeconds(1)), afterSecond);

        // A year-precision value covers the whole year; two bounds combine.
        var year = pivot.UtcDateTime.Year;
        var inYear = (await client.SearchAllPagesAsync(new Uri(R4, $"Observation?patient={BusiestPatient}&_lastUpdated=ge{year}&_lastUpdated=le{year}&_count=200")))
            .SelectMany(p => p.Matches()).Count();
        Assert.Equal(all.Count(r => r.LastUpdated.UtcDateTime.Year == year), inYear);
    }

    [Fact]
    public async Task Dstu2_is_served_as_application_json_fhir_and_R4_as_application_fhir_json()
    {
        using var client = await sandbox.PatientClientAsync("nextgen", "dstu2", "smart-1081332");
        using var r4Client = await sandbox.PatientClientAsync("nextgen", "r4", BusiestPatient);
        var dstu2 = sandbox.Server.FhirBase("nextgen", "dstu2");

        using var dstu2Search = await client.GetAsync(new Uri(dstu2, "MedicationOrder?patient=smart-1081332"), TestContext.Current.CancellationToken);
        using var dstu2Read = await client.GetAsync(new Uri(dstu2, "Patient/smart-1081332"), TestContext.Current.CancellationToken);
        using var dstu2Error = await client.GetAsync(new Uri(dstu2, "MedicationOrder?bogus=1"), TestContext.Current.CancellationToken);
        using var r4Search = await r4Client.GetAsync(new Uri(R4, $"Condition?patient={BusiestPatient}"), TestContext.Current.CancellationToken);

        Assert.All([dstu2Search, dstu2Read, dstu2Error], r => Assert.Equal("application/json+fhir", r.Content.Headers.ContentType?.MediaType));
        Assert.Equal("application/fhir+json", r4Search.Content.Headers.ContentType?.MediaType);
        var bundle = JsonNode.Parse(await dstu2Search.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!.AsObject();
        Assert.Equal(7, bundle.Matches().Count());
    }

    [Fact]
    public async Task Search_bundles_carry_total_self_link_last_updated_and_a_Date_header()
    {
        using var client = await sandbox.PatientClientAsync("nextgen", "r4", BusiestPatient);
        var url = new Uri(R4, $"Condition?patient={BusiestPatient}&status=active");

        using var response = await client.GetAsync(url, TestContext.Current.CancellationToken);
        var bundle = JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!.AsObject();

        Assert.NotNull(response.Headers.Date);
        Assert.NotNull((string?)bundle["meta"]?["lastUpdated"]);
        Assert.Equal(url.ToString(), (string?)bundle["link"]![0]!["url"]);
        Assert.Equal(bundle.Matches().Count(), (int)bundle["total"]!);
        Assert.All(bundle.Matches(), c => Assert.Equal("active", (string?)c["clinicalStatus"]!["coding"]![0]!["code"]));
    }

    [Fact]
    public async Task A_search_posted_as_a_form_finds_what_the_same_GET_finds()
    {
        using var client = await sandbox.PatientClientAsync("nextgen", "r4", BusiestPatient);

        var byGet = await client.GetJsonAsync(new Uri(R4, $"Observation?patient={BusiestPatient}&category=laboratory"));
        using var response = await client.PostAsync(new Uri(R4, "Observation/_search"), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["patient"] = BusiestPatient,
            ["category"] = "laboratory",
        }), TestContext.Current.CancellationToken);
        var byPost = JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!.AsObject();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True((int)byGet["total"]! > 0);
        Assert.Equal((int)byGet["total"]!, (int)byPost["total"]!);
    }

    [Fact]
    public async Task Category_and_code_searches_match_coded_values_with_or_without_a_system()
    {
        using var client = await sandbox.PatientClientAsync("nextgen", "r4", BusiestPatient);

        var vitals = await client.SearchAllPagesAsync(new Uri(R4, $"Observation?patient={BusiestPatient}&category=vital-signs&_count=200"));
        var weights = await client.SearchAllPagesAsync(new Uri(R4, $"Observation?patient={BusiestPatient}&code=http://loinc.org|29463-7&_count=200"));
        var wrongSystem = await client.GetJsonAsync(new Uri(R4, $"Observation?patient={BusiestPatient}&code=http://snomed.info/sct|29463-7"));

        var vitalResources = vitals.SelectMany(p => p.Matches()).ToList();
        Assert.NotEmpty(vitalResources);
        Assert.All(vitalResources, o => Assert.Contains("vital-signs", o["category"]!.ToJsonString(), StringComparison.Ordinal));
        var weightResources = weights.SelectMany(p => p.Matches()).ToList();
        Assert.NotEmpty(weightResources);
        Assert.All(weightResources, o => Assert.Equal("29463-7", (string?)o["code"]!["coding"]![0]!["code"]));
        Assert.Equal(0, (int)wrongSystem["total"]!);
    }

    [Fact]
    public async Task Epic_refuses_Observation_searches_without_a_category()
    {
        using var client = await sandbox.PatientClientAsync("epic", "r4", $"e-{BusiestPatient}");
        var epic = sandbox.Server.FhirBase("epic", "r4");

        var refused = await client.GetJsonAsync(new Uri(epic, $"Observation?patient=e-{BusiestPatient}"), HttpStatusCode.BadRequest);
        var labs = await client.GetJsonAsync(new Uri(epic, $"Observation?patient=e-{BusiestPatient}&category=laboratory"));

        Assert.Equal("required", refused.IssueCode());
        Assert.True((int)labs["total"]! > 0);
    }

    [Fact]
    public async Task Cerner_refuses_MedicationRequest_searches_without_an_intent()
    {
        using var client = await sandbox.PatientClientAsync("cerner", "r4", $"c-{BusiestPatient}");
        var cerner = sandbox.Server.FhirBase("cerner", "r4");

        var refused = await client.GetJsonAsync(new Uri(cerner, $"MedicationRequest?patient=c-{BusiestPatient}"), HttpStatusCode.BadRequest);
        var orders = await client.GetJsonAsync(new Uri(cerner, $"MedicationRequest?patient=c-{BusiestPatient}&intent=order"));

        Assert.Equal("required", refused.IssueCode());
        Assert.Equal(12, (int)orders["total"]!);
    }

    [Fact]
    public async Task Each_persona_has_its_own_ids_for_the_same_patient()
    {
        using var client = await sandbox.PatientClientAsync("epic", "r4", $"e-{BusiestPatient}");
        var epic = sandbox.Server.FhirBase("epic", "r4");

        var atEpic = await client.GetJsonAsync(new Uri(epic, $"Patient/e-{BusiestPatient}"));
        var nextgenIdAtEpic = await client.GetJsonAsync(new Uri(epic, $"Patient/{BusiestPatient}"), HttpStatusCode.NotFound);
        var inferredPatient = await client.GetJsonAsync(new Uri(epic, "Condition"));
        var conditions = await client.GetJsonAsync(new Uri(epic, $"Condition?patient=e-{BusiestPatient}"));

        Assert.Equal($"e-{BusiestPatient}", (string?)atEpic["id"]);
        Assert.Equal("not-found", nextgenIdAtEpic.IssueCode());
        Assert.All(conditions.Matches(), c => Assert.Equal($"Patient/e-{BusiestPatient}", (string?)c["subject"]!["reference"]));
        Assert.Equal((int)conditions["total"]!, (int)inferredPatient["total"]!);
    }

    [Fact]
    public async Task Unsupported_parameters_and_types_are_refused_with_an_OperationOutcome()
    {
        using var client = await sandbox.PatientClientAsync("nextgen", "r4", BusiestPatient);

        var unknownParameter = await client.GetJsonAsync(new Uri(R4, $"Condition?patient={BusiestPatient}&_sort=date"), HttpStatusCode.BadRequest);
        var badPrefix = await client.GetJsonAsync(new Uri(R4, $"Condition?patient={BusiestPatient}&_lastUpdated=sa2020"), HttpStatusCode.BadRequest);
        var badInclude = await client.GetJsonAsync(new Uri(R4, $"Condition?patient={BusiestPatient}&_include=Condition:encounter"), HttpStatusCode.BadRequest);
        var unknownType = await client.GetJsonAsync(new Uri(R4, "Spaceship?patient=1"), HttpStatusCode.NotFound);
        var tamperedPage = await client.GetJsonAsync(new Uri(R4, "Condition?_page=not-a-real-token"), HttpStatusCode.BadRequest);

        Assert.Equal("not-supported", unknownParameter.IssueCode());
        Assert.Equal("not-supported", badPrefix.IssueCode());
        Assert.Equal("not-supported", badInclude.IssueCode());
        Assert.Equal("not-supported", unknownType.IssueCode());
        Assert.Equal("invalid", tamperedPage.IssueCode());
    }

    [Fact]
    public async Task A_supported_type_without_data_returns_an_empty_searchset()
    {
        using var client = await sandbox.PatientClientAsync("nextgen", "r4", BusiestPatient);

        foreach (var type in new[] { "CareTeam", "Coverage", "DocumentReference", "Specimen" })
        {
            var bundle = await client.GetJsonAsync(new Uri(R4, $"{type}?patient={BusiestPatient}"));
            Assert.Equal("searchset", (string?)bundle["type"]);
            Assert.Equal(0, (int)bundle["total"]!);
        }
    }

    [Fact]
    public async Task Metadata_lists_every_searchable_type_and_the_oauth_endpoints()
    {
        using var client = sandbox.Server.CreateClient();

        var r4 = await client.GetJsonAsync(new Uri(R4, "metadata"));
        var dstu2 = await client.GetJsonAsync(new Uri(sandbox.Server.FhirBase("nextgen", "dstu2"), "metadata"));

        Assert.Equal("CapabilityStatement", (string?)r4["resourceType"]);
        Assert.Equal("4.0.1", (string?)r4["fhirVersion"]);
        Assert.Equal("Conformance", (string?)dstu2["resourceType"]);
        Assert.Equal("1.0.2", (string?)dstu2["fhirVersion"]);
        var r4Types = r4["rest"]![0]!["resource"]!.AsArray().Select(r => (string)r!["type"]!).ToList();
        Assert.Contains("ExplanationOfBenefit", r4Types);
        Assert.Contains("ServiceRequest", r4Types);
        var dstu2Types = dstu2["rest"]![0]!["resource"]!.AsArray().Select(r => (string)r!["type"]!).ToList();
        Assert.Contains("MedicationOrder", dstu2Types);
        Assert.Contains("List", dstu2Types);
        foreach (var statement in new[] { r4, dstu2 })
        {
            var oauth = statement["rest"]![0]!["security"]!["extension"]!.AsArray()
                .Single(e => (string?)e!["url"] == "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris")!;
            var uris = oauth["extension"]!.AsArray().ToDictionary(e => (string)e!["url"]!, e => (string)e!["valueUri"]!);
            Assert.Equal(new Uri(sandbox.Server.Root, "oauth/authorize").ToString(), uris["authorize"]);
            Assert.Equal(new Uri(sandbox.Server.Root, "oauth/token").ToString(), uris["token"]);
        }
    }
}
