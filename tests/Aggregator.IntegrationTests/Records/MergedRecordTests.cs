using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aggregator.IntegrationTests.Infrastructure;
using Aggregator.Sandbox.Tests.Hosting;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.IntegrationTests.Records;

/// <summary>The merged record built from synced providers: nothing lost, each fact once, every source kept.</summary>
public sealed class MergedRecordTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox, jobServer: true)
{
    private static readonly HashSet<string> Supporting = new(StringComparer.Ordinal) { "Practitioner", "Organization", "Location", "Medication", "Binary", "Provenance" };

    [Fact]
    public async Task Every_clinical_resource_of_a_synced_patient_lands_in_exactly_one_merged_item()
    {
        var login = Sandbox.Login("nextgen", "R4", 3);
        var (patientId, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-nextgen-r4", login);
        Assert.Equal("succeeded", (await Tenant.WaitForRunAsync(connectionId)).GetProperty("status").GetString());

        var record = await Tenant.GetJsonAsync($"/v1/patients/{patientId}/record");
        var sourcesInItems = await Tenant.SourcesInRecordAsync(patientId);

        await using var db = Database.CreateContext();
        var clinical = await db.SourceResources.Where(r => r.ConnectionId == connectionId && r.DeletedAt == null && !Supporting.Contains(r.ResourceType))
            .Select(r => r.ResourceType + "/" + r.ResourceId).ToListAsync(TestContext.Current.CancellationToken);
        Assert.Equal(clinical.Order(StringComparer.Ordinal), sourcesInItems.Order(StringComparer.Ordinal));
        Assert.Contains(record.GetProperty("categories").EnumerateArray(), c => c.GetProperty("category").GetString() == "labs" && c.GetProperty("count").GetInt32() > 0);
        Assert.Contains(record.GetProperty("categories").EnumerateArray(), c => c.GetProperty("category").GetString() == "vitals");
        Assert.False(string.IsNullOrEmpty(record.GetProperty("demographics").GetProperty("birthDate").GetString()));
    }

    [Fact]
    public async Task The_same_person_at_two_providers_gives_one_item_per_fact_with_both_sources()
    {
        var epic = Sandbox.Login("epic", "R4", 4);
        var cerner = Sandbox.Logins.Single(l => l.Persona == "cerner" && l.PersonId == epic.PersonId && l.FhirVersion == "R4" && l.Source != "generated");
        var (patientId, epicConnection) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-epic-r4", epic, "same-person");
        var cernerConnection = await Api.ConnectExistingAsync(Tenant, Sandbox, patientId, "sandbox-cerner-r4", cerner);
        await Tenant.WaitForRunAsync(epicConnection);
        await Tenant.WaitForRunAsync(cernerConnection);

        var conditions = (await Tenant.AllItemsAsync(patientId)).Where(i => i.GetProperty("category").GetString() == "conditions").ToList();
        var labs = (await Tenant.AllItemsAsync(patientId)).Where(i => i.GetProperty("category").GetString() == "labs").ToList();

        Assert.NotEmpty(labs);
        Assert.All(conditions.Concat(labs), item =>
        {
            var connections = item.GetProperty("sources").EnumerateArray().Select(s => s.GetProperty("connectionId").GetGuid()).Distinct().ToList();
            Assert.Equal(new[] { epicConnection, cernerConnection }.Order(), connections.Order());
            Assert.NotNull(item.GetProperty("mergedBy").GetString());
        });
        await using var db = Database.CreateContext();
        var epicObservations = await db.SourceResources.Where(r => r.ConnectionId == epicConnection && r.ResourceType == "Observation").Select(r => r.Resource!).ToListAsync(TestContext.Current.CancellationToken);
        var epicLabs = epicObservations.Count(r => r.Contains("\"laboratory\"", StringComparison.Ordinal));
        // Each provider states every lab once; merged, each lab is one item (a lab recorded twice by one provider is one item too).
        Assert.InRange(labs.Count, 1, epicLabs);
    }

    [Fact]
    public async Task The_same_person_served_as_DSTU2_by_one_persona_and_R4_by_another_gives_one_item_per_fact()
    {
        // Generated person 1 (read only here): NextGen serves it in DSTU2, Epic in R4; the generator says which facts both hold.
        var dstu2Login = Sandbox.Generated("nextgen", "DSTU2", 1);
        var (patientId, dstu2) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-nextgen-dstu2", dstu2Login, "dstu2-and-r4");
        var r4 = await Api.ConnectExistingAsync(Tenant, Sandbox, patientId, "sandbox-epic-r4", Sandbox.Generated("epic", "R4", 1));
        Assert.Equal("succeeded", (await Tenant.WaitForRunAsync(dstu2)).GetProperty("status").GetString());
        Assert.Equal("succeeded", (await Tenant.WaitForRunAsync(r4)).GetProperty("status").GetString());
        var truth = (await Sandbox.Server.OverlapAsync(dstu2Login.PersonId)).Single().Facts
            .Select(f => f with { Resources = f.Resources.Where(r => (r.Persona, r.FhirVersion) is ("nextgen", "DSTU2") or ("epic", "R4")).ToList() })
            .Where(f => f.Resources.Count > 0)
            .ToList();

        var items = await Tenant.AllItemsAsync(patientId, includeRetracted: true);
        var itemOf = items.SelectMany(i => i.GetProperty("sources").EnumerateArray().Select(s =>
                (Key: (s.GetProperty("connectionId").GetGuid(), s.GetProperty("resourceType").GetString(), s.GetProperty("resourceId").GetString()), Item: i.GetProperty("id").GetString())))
            .ToDictionary(p => p.Key, p => p.Item);

        var shared = truth.Where(f => f.Resources.Any(r => r.Persona == "nextgen") && f.Resources.Any(r => r.Persona == "epic")).ToList();
        Assert.NotEmpty(shared);
        foreach (var fact in truth)
        {
            var holding = fact.Resources.Select(r => itemOf[(r.Persona == "epic" ? r4 : dstu2, r.ResourceType, r.ResourceId)]).Distinct().ToList();
            Assert.True(holding.Count == 1, $"{fact.FactId} ({fact.Category}) is in {holding.Count} items");
        }

        // One item per fact: as many items as facts, the DSTU2 sources named as NextGen served them.
        Assert.Equal(truth.Count, items.Count);
        Assert.Contains(items.SelectMany(i => i.GetProperty("sources").EnumerateArray()), s => s.GetProperty("resourceType").GetString() == "MedicationOrder");
    }

    [Fact]
    public async Task An_unknown_category_is_404_while_a_known_one_without_items_is_an_empty_page()
    {
        var patientId = (await Tenant.PutPatientAsync("categories")).GetProperty("id").GetGuid();

        var typo = await Tenant.GetAsync(new Uri($"/v1/patients/{patientId}/record/lab", UriKind.Relative), TestContext.Current.CancellationToken);
        var empty = await Tenant.GetJsonAsync($"/v1/patients/{patientId}/record/labs");
        var compartmentType = await Tenant.GetJsonAsync($"/v1/patients/{patientId}/record/questionnaire-responses");

        Assert.Equal(HttpStatusCode.NotFound, typo.StatusCode);
        Assert.Equal("application/problem+json", typo.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, empty.GetProperty("items").GetArrayLength());
        Assert.Equal(0, compartmentType.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task The_etag_answers_304_until_the_record_changes_and_another_patients_session_gets_404()
    {
        var login = Sandbox.Login("nextgen", "R4", 5);
        var (patientId, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-nextgen-r4", login);
        await Tenant.WaitForRunAsync(connectionId);
        var first = await Tenant.GetAsync(new Uri($"/v1/patients/{patientId}/record/labs?limit=5", UriKind.Relative), TestContext.Current.CancellationToken);
        var etag = first.Headers.ETag!;

        using var conditional = new HttpRequestMessage(HttpMethod.Get, $"/v1/patients/{patientId}/record/labs?limit=5");
        conditional.Headers.IfNoneMatch.Add(etag);
        var notModified = await Tenant.SendAsync(conditional, TestContext.Current.CancellationToken);
        var other = (await Tenant.PutPatientAsync("someone-else")).GetProperty("id").GetGuid();
        var minted = await Tenant.PostAsJsonAsync(new Uri($"/v1/patients/{other}/session-tokens", UriKind.Relative), new { }, TestContext.Current.CancellationToken);
        var session = (await minted.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("token").GetString()!;
        var stranger = await Api.CreateClient().WithBearer(session).GetAsync(new Uri($"/v1/patients/{patientId}/record/labs", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(etag, notModified.Headers.ETag); // a 304 carries the validator its 200 would have
        Assert.Equal(HttpStatusCode.NotFound, stranger.StatusCode);
        var page = await first.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal(5, page.GetProperty("items").GetArrayLength());
        Assert.NotNull(page.GetProperty("nextCursor").GetString());
    }

    [Fact]
    public async Task The_summary_answers_304_until_a_sources_sync_state_changes_even_when_the_record_does_not()
    {
        var login = Sandbox.Login("nextgen", "DSTU2", 2);
        var (patientId, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-nextgen-dstu2", login);
        await Tenant.WaitForRunAsync(connectionId);
        var first = await Tenant.GetAsync(new Uri($"/v1/patients/{patientId}/record", UriKind.Relative), TestContext.Current.CancellationToken);
        var before = await first.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);

        var unchanged = await SummaryAsync(patientId, first.Headers.ETag!);
        var resync = await Tenant.SyncNowAsync(connectionId);
        var afterSync = await SummaryAsync(patientId, first.Headers.ETag!);

        Assert.Equal(HttpStatusCode.NotModified, unchanged.StatusCode);
        Assert.Equal("succeeded", resync.GetProperty("status").GetString());
        // Nothing changed at the provider, so the record did not; the source's last sync did, and the summary says so.
        Assert.Equal(HttpStatusCode.OK, afterSync.StatusCode);
        var after = await afterSync.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal(before.GetProperty("recordVersion").GetInt64(), after.GetProperty("recordVersion").GetInt64());
        Assert.True(
            after.GetProperty("sources")[0].GetProperty("lastSuccessAt").GetDateTimeOffset() > before.GetProperty("sources")[0].GetProperty("lastSuccessAt").GetDateTimeOffset(),
            "the source's last successful sync moved on");
        Assert.NotEqual(first.Headers.ETag, afterSync.Headers.ETag);
    }

    private async Task<HttpResponseMessage> SummaryAsync(Guid patientId, System.Net.Http.Headers.EntityTagHeaderValue etag)
    {
        using var conditional = new HttpRequestMessage(HttpMethod.Get, $"/v1/patients/{patientId}/record");
        conditional.Headers.IfNoneMatch.Add(etag);
        return await Tenant.SendAsync(conditional, TestContext.Current.CancellationToken);
    }
}
