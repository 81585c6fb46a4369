using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aggregator.Infrastructure.Persistence;
using Aggregator.IntegrationTests.Infrastructure;
using Aggregator.Sandbox.Tests.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.IntegrationTests.Records;

/// <summary>
/// The read model the record rebuild writes is what every read serves: a fact that changes at the provider shows on
/// every path at the first read after the sync (however warm the caches were), and a record built in an older form is
/// built again when the database is migrated.
/// </summary>
public sealed class ReadModelTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox, jobServer: true)
{
    private const string Loinc = "http://loinc.org";
    private const string Code = "2951-2";

    [Fact]
    public async Task A_result_added_then_corrected_at_the_provider_shows_on_every_read_path_at_the_next_read()
    {
        var login = Sandbox.Generated("cerner", "R4", 8);
        var (patientId, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-cerner-r4", login, "read-model-change");
        await Tenant.WaitForRunAsync(connectionId);
        // Every path read once: whatever can be cached is.
        var paths = PathsOf(patientId, connectionId);
        foreach (var path in paths)
        {
            Assert.Equal(HttpStatusCode.OK, (await Tenant.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        }

        var feed = await Tenant.GetJsonAsync($"/v1/patients/{patientId}/changes?limit=500");
        var labsBefore = Count(await Tenant.GetJsonAsync($"/v1/patients/{patientId}/record"), "labs");

        using var added = await Sandbox.Server.AddResourceAsync("cerner", "r4", login.PatientId, Sodium(login.PatientId, null, 151));
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var resourceId = (await added.Content.ReadFromJsonAsync<JsonObject>(TestContext.Current.CancellationToken))!["id"]!.GetValue<string>();
        Assert.Equal("succeeded", (await Tenant.SyncNowAsync(connectionId)).GetProperty("status").GetString());

        var seen = await ReadEveryPathAsync(patientId, connectionId, 151m);
        Assert.Equal(labsBefore + 1, Count(await Tenant.GetJsonAsync($"/v1/patients/{patientId}/record"), "labs"));
        var changes = await Tenant.GetJsonAsync($"/v1/patients/{patientId}/changes?limit=500&cursor={Uri.EscapeDataString(feed.GetProperty("nextCursor").GetString()!)}");
        Assert.Contains(changes.GetProperty("changes").EnumerateArray(), c => c.GetProperty("id").GetString() == seen);

        // The provider corrects the value: the same item, its new value everywhere.
        Assert.True((await Sandbox.Server.ReplaceResourceAsync("cerner", "r4", "Observation", resourceId, Sodium(login.PatientId, resourceId, 141))).IsSuccessStatusCode);
        Assert.Equal("succeeded", (await Tenant.SyncNowAsync(connectionId)).GetProperty("status").GetString());

        Assert.Equal(seen, await ReadEveryPathAsync(patientId, connectionId, 141m));
    }

    [Fact]
    public async Task A_record_built_in_an_older_read_model_is_built_again_by_the_migration_and_reads_as_before()
    {
        var login = Sandbox.Generated("cerner", "R4", 0);
        var (patientId, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-cerner-r4", login, "read-model-upgrade");
        await Tenant.WaitForRunAsync(connectionId);
        var everything = Entries(await Tenant.GetJsonAsync($"/fhir/r4/Patient/{patientId}/$everything"));
        var labs = await Tenant.GetStringAsync(new Uri($"/v1/patients/{patientId}/record/labs?limit=500&provider={connectionId}&code={Loinc}|{Code}", UriKind.Relative), TestContext.Current.CancellationToken);
        var summary = Summary(await Tenant.GetJsonAsync($"/v1/patients/{patientId}/record"));
        long version;
        await using (var db = Database.CreateContext())
        {
            // As an older release left it: no FHIR forms, no typed codes, no source rows.
            await db.Database.ExecuteSqlInterpolatedAsync($"UPDATE record_items SET fhir = NULL, provenance = NULL, fhir_type = NULL, codes = '{{}}' WHERE patient_id = {patientId}", TestContext.Current.CancellationToken);
            await db.Database.ExecuteSqlInterpolatedAsync($"DELETE FROM record_item_sources WHERE patient_id = {patientId}", TestContext.Current.CancellationToken);
            await db.Database.ExecuteSqlInterpolatedAsync($"DELETE FROM record_supporting_resources WHERE patient_id = {patientId}", TestContext.Current.CancellationToken);
            await db.Database.ExecuteSqlInterpolatedAsync($"UPDATE patients SET record_model = 1, record_summary = NULL WHERE id = {patientId}", TestContext.Current.CancellationToken);
            version = await db.Patients.Where(p => p.Id == patientId).Select(p => p.RecordVersion).SingleAsync(TestContext.Current.CancellationToken);
        }

        // Before the migration has built it again, the summary still shows the record's counts and patient (from its items).
        Assert.Equal(summary, Summary(await Tenant.GetJsonAsync($"/v1/patients/{patientId}/record")));

        await Api.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(TestContext.Current.CancellationToken);

        await using (var db = Database.CreateContext())
        {
            var patient = await db.Patients.SingleAsync(p => p.Id == patientId, TestContext.Current.CancellationToken);
            Assert.Equal(Domain.Records.RecordItem.Model, patient.RecordModel);
            Assert.Equal(version + 1, patient.RecordVersion);
        }

        Assert.Equal(everything, Entries(await Tenant.GetJsonAsync($"/fhir/r4/Patient/{patientId}/$everything")));
        Assert.Equal(labs, await Tenant.GetStringAsync(new Uri($"/v1/patients/{patientId}/record/labs?limit=500&provider={connectionId}&code={Loinc}|{Code}", UriKind.Relative), TestContext.Current.CancellationToken));
        Assert.Equal(summary, Summary(await Tenant.GetJsonAsync($"/v1/patients/{patientId}/record")));
    }

    [Fact]
    public async Task The_first_pages_the_rebuild_keeps_are_served_as_kept_list_what_a_query_lists_and_their_cursors_lead_on()
    {
        // The sample patient with the most results: the labs and the timeline run past one page.
        var login = Sandbox.Logins.Single(l => l.Persona == "nextgen" && l.FhirVersion == "R4" && l.Source.Contains("Pulido", StringComparison.Ordinal));
        var (patientId, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-nextgen-r4", login, "read-model-first-pages");
        await Tenant.WaitForRunAsync(connectionId);
        var summary = await Tenant.GetJsonAsync($"/v1/patients/{patientId}/record");
        var version = summary.GetProperty("recordVersion").GetInt64();
        Dictionary<string, byte[]> kept;
        await using (var db = Database.CreateContext())
        {
            kept = await db.RecordFirstPages.IgnoreQueryFilters().Where(p => p.PatientId == patientId && p.RecordVersion == version)
                .ToDictionaryAsync(p => p.Listing, p => p.Body, TestContext.Current.CancellationToken);
        }

        // One page for every category (an empty one where the patient has nothing) and the timeline, of the version read.
        Assert.Equal([.. Domain.Records.RecordCategory.All.Append("timeline").Order(StringComparer.Ordinal)], kept.Keys.Order(StringComparer.Ordinal));
        var withItems = summary.GetProperty("categories").EnumerateArray().Select(c => c.GetProperty("category").GetString()!).ToList();
        var without = Domain.Records.RecordCategory.All.Where(c => !withItems.Contains(c) && c != "demographics").Order(StringComparer.Ordinal).First();
        var listings = withItems.Append("demographics").Append(without).Select(c => $"record/{c}").Append("timeline").ToList();
        Assert.Contains("labs", withItems);
        foreach (var listing in listings)
        {
            var path = $"/v1/patients/{patientId}/{listing}";
            var first = await Tenant.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            var served = await first.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
            // `q=` names the same listing with no words: the same items, read by a query over the items.
            var queried = await Tenant.GetJsonAsync($"{path}?q=");
            var page = JsonDocument.Parse(served).RootElement;
            Assert.Equal(queried.GetProperty("items").GetRawText(), page.GetProperty("items").GetRawText());
            Assert.Equal(queried.GetProperty("nextCursor").ValueKind, page.GetProperty("nextCursor").ValueKind);
            if (page.GetProperty("nextCursor").ValueKind == JsonValueKind.String)
            {
                // A cursor is sealed afresh each time: the page served is the one kept, byte for byte, and its cursor leads on.
                Assert.Equal(kept[listing.Split('/')[^1]], served);
                var next = await Tenant.GetJsonAsync($"{path}?cursor={Uri.EscapeDataString(page.GetProperty("nextCursor").GetString()!)}");
                var nextQueried = await Tenant.GetJsonAsync($"{path}?q=&cursor={Uri.EscapeDataString(queried.GetProperty("nextCursor").GetString()!)}");
                Assert.Equal(nextQueried.GetProperty("items").GetRawText(), next.GetProperty("items").GetRawText());
                Assert.NotEqual(0, next.GetProperty("items").GetArrayLength());
            }
        }

        // The cursors were tried, of a category and of the timeline.
        Assert.Equal(JsonValueKind.String, JsonDocument.Parse(kept["labs"]).RootElement.GetProperty("nextCursor").ValueKind);
        Assert.Equal(JsonValueKind.String, JsonDocument.Parse(kept["timeline"]).RootElement.GetProperty("nextCursor").ValueKind);
    }

    /// <summary>What a summary says of the record itself: its categories with their counts, and the merged patient.</summary>
    private static string Summary(JsonElement summary) =>
        $"{summary.GetProperty("categories").GetRawText()} {summary.GetProperty("demographics").GetRawText()}";

    private static List<string> PathsOf(Guid patientId, Guid connectionId) =>
    [
        $"/v1/patients/{patientId}/record",
        $"/v1/patients/{patientId}/record/labs",
        $"/v1/patients/{patientId}/record/labs?code={Code}",
        $"/v1/patients/{patientId}/record/labs?provider={connectionId}&q=sodium",
        $"/v1/patients/{patientId}/timeline",
        $"/v1/patients/{patientId}/labs/trends?code={Code}",
        $"/fhir/r4/Patient/{patientId}/$everything",
        $"/fhir/r4/Observation?patient={patientId}&_revinclude=Provenance:target",
        $"/v1/patients/{patientId}/export",
    ];

    /// <summary>Finds the result on every path with <paramref name="value"/>; returns its item id (the same on all).</summary>
    private async Task<string> ReadEveryPathAsync(Guid patientId, Guid connectionId, decimal value)
    {
        var record = $"/v1/patients/{patientId}";
        var pages = new[]
        {
            $"{record}/record/labs", $"{record}/record/labs?code={Code}", $"{record}/record/labs?code={Uri.EscapeDataString(Loinc + "|" + Code)}",
            $"{record}/record/labs?provider={connectionId}&q=sodium", $"{record}/timeline",
        };
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var page in pages)
        {
            var item = (await Tenant.GetJsonAsync(page)).GetProperty("items").EnumerateArray()
                .SingleOrDefault(i => i.GetProperty("effective").GetString() == "2030-01-02T08:00:00.0000000Z");
            Assert.True(item.ValueKind == JsonValueKind.Object, $"{page} does not list the result");
            Assert.Equal(value, item.GetProperty("value").GetProperty("value").GetDecimal());
            ids.Add(item.GetProperty("id").GetString()!);
        }

        var id = Assert.Single(ids);
        var trend = await Tenant.GetJsonAsync($"{record}/labs/trends?code={Code}");
        Assert.Equal(value, trend.GetProperty("points").EnumerateArray().Single(p => p.GetProperty("itemId").GetString() == id).GetProperty("value").GetDecimal());

        var everything = await Tenant.GetJsonAsync($"/fhir/r4/Patient/{patientId}/$everything");
        Assert.Equal(value, ResourceIn(everything, "Observation", id).GetProperty("valueQuantity").GetProperty("value").GetDecimal());
        Assert.Equal(JsonValueKind.Object, ResourceIn(everything, "Provenance", id).ValueKind);
        var search = await Tenant.GetJsonAsync($"/fhir/r4/Observation?patient={patientId}&_revinclude=Provenance:target");
        Assert.Equal(value, ResourceIn(search, "Observation", id).GetProperty("valueQuantity").GetProperty("value").GetDecimal());
        Assert.Equal(value, (await Tenant.GetJsonAsync($"/fhir/r4/Observation/{id}")).GetProperty("valueQuantity").GetProperty("value").GetDecimal());
        var export = await Tenant.GetJsonAsync($"{record}/export");
        Assert.Equal(value, ResourceIn(export, "Observation", id).GetProperty("valueQuantity").GetProperty("value").GetDecimal());
        return id;
    }

    private static JsonElement ResourceIn(JsonElement bundle, string type, string id) =>
        bundle.GetProperty("entry").EnumerateArray().Select(e => e.GetProperty("resource"))
            .SingleOrDefault(r => r.GetProperty("resourceType").GetString() == type && r.GetProperty("id").GetString() == id);

    private static int Count(JsonElement summary, string category) =>
        summary.GetProperty("categories").EnumerateArray().Where(c => c.GetProperty("category").GetString() == category).Select(c => c.GetProperty("count").GetInt32()).SingleOrDefault();

    /// <summary>The Bundle's entries without what differs per response (its id and time).</summary>
    private static List<string> Entries(JsonElement bundle) =>
        [.. bundle.GetProperty("entry").EnumerateArray().Select(e => e.GetRawText())];

    private static JsonObject Sodium(string patient, string? id, int value)
    {
        var resource = new JsonObject
        {
            ["resourceType"] = "Observation",
            ["status"] = "final",
            ["category"] = new JsonArray(new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://terminology.hl7.org/CodeSystem/observation-category", ["code"] = "laboratory" }) }),
            ["code"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = Loinc, ["code"] = Code, ["display"] = "Sodium [Moles/volume] in Urine" }) },
            ["subject"] = new JsonObject { ["reference"] = $"Patient/{patient}" },
            ["effectiveDateTime"] = "2030-01-02T08:00:00Z",
            ["valueQuantity"] = new JsonObject { ["value"] = value, ["unit"] = "mmol/L", ["system"] = "http://unitsofmeasure.org", ["code"] = "mmol/L" },
        };
        if (id is not null)
        {
            resource["id"] = id;
        }

        return resource;
    }
}
