using System.Text.Json.Nodes;
using Aggregator.Domain.Providers;
using Aggregator.Infrastructure.Providers;
using Aggregator.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.IntegrationTests.Records;

/// <summary>
/// Every read of the merged record (the REST record, its categories and filters, the timeline, trends, the change feed,
/// items with their raw sources, document content, the FHIR view's $everything, searches and reads, and the export)
/// answers exactly what the golden files hold, on the repository's sample patients: a sample at two providers that
/// write the same facts differently, a DSTU2 sample, and a generated person at an R4 and a DSTU2 provider. The golden
/// files were captured from the read paths before the read model was built; <c>AGGREGATOR_GOLDEN=write</c> captures anew.
/// </summary>
public sealed class ReadPathGoldenTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox, jobServer: true)
{
    [Fact]
    public async Task A_sample_patient_at_two_providers_reads_as_the_golden_file_holds()
    {
        await RegisterSecondProviderAsync();
        var patientId = (await Tenant.PutPatientAsync("golden-two-providers")).GetProperty("id").GetGuid();
        var first = await ConnectAndSyncAsync(patientId, "sandbox-nextgen-r4", Sandbox.Logins.Single(l => l.Persona == "nextgen" && l.FhirVersion == "R4" && l.Source.Contains("Fonseca", StringComparison.Ordinal)));
        var second = await ConnectAndSyncAsync(patientId, "golden-second", Sandbox.Logins.Single(l => l.Persona == "second" && l.Source.Contains("Fonseca", StringComparison.Ordinal)));

        await CaptureAsync(patientId, [first, second], "sample-r4-two-providers");
    }

    [Fact]
    public async Task A_dstu2_sample_patient_reads_as_the_golden_file_holds()
    {
        var patientId = (await Tenant.PutPatientAsync("golden-dstu2")).GetProperty("id").GetGuid();
        var connection = await ConnectAndSyncAsync(patientId, "sandbox-nextgen-dstu2", Sandbox.Logins.Single(l => l.Persona == "nextgen" && l.FhirVersion == "DSTU2" && l.Source.Contains("Abshire_Hermine", StringComparison.Ordinal)));

        await CaptureAsync(patientId, [connection], "sample-dstu2");
    }

    [Fact]
    public async Task A_generated_person_at_an_r4_and_a_dstu2_provider_reads_as_the_golden_file_holds()
    {
        var patientId = (await Tenant.PutPatientAsync("golden-generated")).GetProperty("id").GetGuid();
        var r4 = await ConnectAndSyncAsync(patientId, "sandbox-epic-r4", Sandbox.Generated("epic", "R4", 0));
        var dstu2 = await ConnectAndSyncAsync(patientId, "sandbox-nextgen-dstu2", Sandbox.Generated("nextgen", "DSTU2", 0));

        await CaptureAsync(patientId, [r4, dstu2], "generated-r4-dstu2");
    }

    /// <summary>
    /// One connection at a time, each synced before the next: items are created in the same order every run. The binding
    /// is confirmed once the first sync has ended, so that the record takes the connection's data in one version: a
    /// confirmation while the sync is storing pages would rebuild with some of them, and the versions would depend on
    /// how far it had got.
    /// </summary>
    private async Task<Guid> ConnectAndSyncAsync(Guid patientId, string provider, SandboxLogin login)
    {
        var (connection, landing) = await Api.ConnectUnconfirmedAsync(Tenant, Sandbox, patientId, provider, login);
        Assert.Equal("succeeded", (await Tenant.WaitForRunAsync(connection, limit: TimeSpan.FromMinutes(3))).GetProperty("status").GetString());
        await Tenant.ConfirmAsync(connection, landing);
        return connection;
    }

    private async Task RegisterSecondProviderAsync()
    {
        await using var scope = Api.Services.CreateAsyncScope();
        var directory = scope.ServiceProvider.GetRequiredService<ProviderAdministration>();
        var provider = await directory.UpsertAsync(
            new ProviderEntry("golden-second", "Second provider (golden files)", "Second", FhirVersion.R4, new Uri(Sandbox.Root, "second/fhir/r4/").AbsoluteUri),
            "test", TestContext.Current.CancellationToken);
        await directory.SetClientAsync(provider, null, "second-public-app", ClientAuthenticationMethod.None, null, null, null, TestContext.Current.CancellationToken);
        await directory.SaveAsync(TestContext.Current.CancellationToken);
    }

    private async Task CaptureAsync(Guid patientId, IReadOnlyList<Guid> connections, string name)
    {
        var golden = new GoldenAnswers(Tenant, DateTimeOffset.UtcNow);
        var record = $"/v1/patients/{patientId}";

        // The REST record: the summary, every category page by page (and with retracted items), filters on each.
        var summary = (await golden.JsonAsync($"{record}/record"))!;
        var categories = summary["categories"]!.AsArray().Select(c => c!["category"]!.GetValue<string>()).Append("demographics").ToList();
        var firstItems = new List<JsonObject>();
        foreach (var category in categories)
        {
            var items = await golden.PagesAsync($"{record}/record/{category}?limit=40");
            await golden.JsonAsync($"{record}/record/{category}?limit=500&includeRetracted=true");
            if (items.Count == 0)
            {
                continue;
            }

            firstItems.Add(items[0]);
            var sample = items[items.Count / 2];
            if (sample["codes"]?.AsArray().FirstOrDefault() is JsonObject coding)
            {
                await golden.JsonAsync($"{record}/record/{category}?limit=500&code={Uri.EscapeDataString(coding["code"]!.GetValue<string>())}");
                await golden.JsonAsync($"{record}/record/{category}?limit=500&code={Uri.EscapeDataString(coding["system"]!.GetValue<string>() + "|" + coding["code"]!.GetValue<string>())}");
            }

            if (sample["status"]?.GetValue<string>() is { } status)
            {
                await golden.JsonAsync($"{record}/record/{category}?limit=500&status={Uri.EscapeDataString(status)}");
            }

            foreach (var connection in connections)
            {
                await golden.JsonAsync($"{record}/record/{category}?limit=500&provider={connection}");
            }

            if (sample["display"]?.GetValue<string>()?.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() is { } word)
            {
                await golden.JsonAsync($"{record}/record/{category}?limit=500&q={Uri.EscapeDataString(word)}");
            }

            if (sample["effective"]?.GetValue<string>() is { Length: >= 10 } effective)
            {
                var day = DateOnly.Parse(effective[..10], System.Globalization.CultureInfo.InvariantCulture);
                await golden.JsonAsync($"{record}/record/{category}?limit=500&from={day.AddYears(-1):yyyy-MM-dd}&to={day:yyyy-MM-dd}");
            }
        }

        // Across categories: the timeline, lab trends of the most frequent tests, the change feed.
        var timeline = await golden.PagesAsync($"{record}/timeline?limit=100");
        if (timeline.FirstOrDefault()?["display"]?.GetValue<string>()?.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() is { } timelineWord)
        {
            await golden.JsonAsync($"{record}/timeline?limit=500&q={Uri.EscapeDataString(timelineWord)}");
        }

        var labs = categories.Contains("labs") ? await new GoldenAnswers(Tenant, DateTimeOffset.UtcNow).PagesAsync($"{record}/record/labs?limit=500") : [];
        foreach (var code in labs.Select(l => l["codes"]?.AsArray().FirstOrDefault()?["code"]?.GetValue<string>()).OfType<string>()
            .GroupBy(c => c).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Take(3).Select(g => g.Key))
        {
            await golden.JsonAsync($"{record}/labs/trends?code={Uri.EscapeDataString(code)}");
        }

        await golden.PagesAsync($"{record}/changes?limit=200", "changes");

        // One item of each category with the providers' resources, and document content.
        foreach (var item in firstItems)
        {
            await golden.JsonAsync($"{record}/record/items/{item["id"]}?include=raw");
        }

        if (categories.Contains("documents"))
        {
            foreach (var document in (await new GoldenAnswers(Tenant, DateTimeOffset.UtcNow).PagesAsync($"{record}/record/documents?limit=500")).Take(3))
            {
                await golden.BytesAsync($"{record}/documents/{document["id"]}/content");
            }
        }

        // The FHIR view: $everything, the patient, a search of every type it holds, a read of one resource of each.
        var everything = (await golden.JsonAsync($"/fhir/r4/Patient/{patientId}/$everything"))!;
        await golden.JsonAsync($"/fhir/r4/Patient/{patientId}/$everything?_type=Patient,Condition");
        await golden.JsonAsync($"/fhir/r4/Patient/{patientId}");
        var resources = everything["entry"]!.AsArray().Select(e => (Url: e!["fullUrl"]!.GetValue<string>(), Resource: e["resource"]!.AsObject())).ToList();
        foreach (var type in resources.Select(r => r.Resource["resourceType"]!.GetValue<string>()).Distinct().Order(StringComparer.Ordinal))
        {
            await golden.JsonAsync($"/fhir/r4/{type}?patient={patientId}");
            await golden.JsonAsync($"/fhir/r4/{type}?patient=Patient/{patientId}&_revinclude=Provenance:target");
            if (resources.FirstOrDefault(r => r.Resource["resourceType"]!.GetValue<string>() == type && !r.Url.StartsWith("urn:", StringComparison.Ordinal)) is { Resource: { } first })
            {
                await golden.JsonAsync($"/fhir/r4/{type}/{first["id"]}");
            }
        }

        // The export: the Bundle, NDJSON, some types, and with the providers' resources as stored.
        await golden.JsonAsync($"{record}/export");
        await golden.NdjsonAsync($"{record}/export");
        await golden.NdjsonAsync($"{record}/export?_type=Patient,Condition,Provenance");
        await golden.JsonAsync($"{record}/export?include=sources");

        golden.Verify(name);
    }
}
