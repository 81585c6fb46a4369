using System.Text.Json;
using System.Text.Json.Nodes;
using Aggregator.IntegrationTests.Infrastructure;
using Aggregator.Sandbox.Tests.Hosting;
using Json.Schema;

namespace Aggregator.IntegrationTests.Foundation;

/// <summary>
/// The contract says what the answers are; the answers must say the same. Real answers about a person seen by two
/// providers (R4 and DSTU2) are validated against the document's schemas (JSON Schema 2020-12), so that a field the
/// record builder writes but the document does not describe (or the other way round) fails here.
/// </summary>
public sealed class ContractConformanceTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox, jobServer: true)
{
    private const string DocumentId = "https://aggregator.test/openapi";

    [Fact]
    public async Task Record_sync_connection_and_fhir_answers_match_the_documents_schemas()
    {
        var (patientId, nextgen) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-epic-r4", Sandbox.Generated("epic", "R4", 1), "conformance");
        var dstu2 = await Api.ConnectExistingAsync(Tenant, Sandbox, patientId, "sandbox-nextgen-dstu2", Sandbox.Generated("nextgen", "DSTU2", 1));
        // A third provider holds a fact of a type with no category of its own (a ServiceRequest): its item takes that type's shape.
        var cerner = Sandbox.Generated("cerner", "R4", 3);
        using (var added = await Sandbox.Server.AddResourceAsync("cerner", "r4", cerner.PatientId, new JsonObject
        {
            ["resourceType"] = "ServiceRequest",
            ["status"] = "active",
            ["intent"] = "order",
            ["code"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://loinc.org", ["code"] = "24323-8", ["display"] = "Comprehensive metabolic panel" }) },
            ["subject"] = new JsonObject { ["reference"] = $"Patient/{cerner.PatientId}" },
            ["authoredOn"] = "2024-05-02T10:00:00Z",
        }))
        {
            Assert.True(added.IsSuccessStatusCode, await added.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }

        var third = await Api.ConnectExistingAsync(Tenant, Sandbox, patientId, "sandbox-cerner-r4", cerner);
        await Tenant.WaitForRunAsync(nextgen);
        await Tenant.WaitForRunAsync(dstu2);
        await Tenant.WaitForRunAsync(third);
        var validator = await ValidatorAsync();

        var record = await Tenant.GetJsonAsync($"/v1/patients/{patientId}/record");
        validator.Check("RecordSummary", record, "record");
        var categories = record.GetProperty("categories").EnumerateArray().Select(c => c.GetProperty("category").GetString()!).Append("demographics").ToList();
        Assert.Contains("labs", categories);
        Assert.Contains("service-requests", categories);
        var checkedItems = 0;
        foreach (var category in categories)
        {
            var page = await Tenant.GetJsonAsync($"/v1/patients/{patientId}/record/{category}?limit=500&includeRetracted=true");
            validator.Check("RecordItemPage", page, category);
            AssertItemsNameOnlyDocumentedFields(page, category);
            checkedItems += page.GetProperty("items").GetArrayLength();
        }

        var anyItem = (await Tenant.GetJsonAsync($"/v1/patients/{patientId}/record/labs")).GetProperty("items")[0].GetProperty("id").GetString();
        var detail = await Tenant.GetJsonAsync($"/v1/patients/{patientId}/record/items/{anyItem}?include=raw");
        validator.Check("RecordItem", detail, "item with raw sources");
        AssertItemsNameOnlyDocumentedFields(JsonDocument.Parse($"{{\"items\":[{detail.GetRawText()}]}}").RootElement, "item with raw sources");
        validator.Check("RecordItemPage", await Tenant.GetJsonAsync($"/v1/patients/{patientId}/timeline?limit=500"), "timeline");
        validator.Check("RecordChangePage", await Tenant.GetJsonAsync($"/v1/patients/{patientId}/changes?limit=500"), "changes");
        validator.Check("LabTrend", await Tenant.GetJsonAsync($"/v1/patients/{patientId}/labs/trends?code=2345-7"), "trend");
        validator.Check("PageResponseOfConnectionResponse", await Tenant.GetJsonAsync($"/v1/patients/{patientId}/connections"), "connections");
        validator.Check("PageResponseOfSyncRunResponse", await Tenant.GetJsonAsync($"/v1/connections/{dstu2}/sync-runs"), "sync runs");
        validator.Check("CoverageResponse", await Tenant.GetJsonAsync($"/v1/connections/{dstu2}/coverage"), "coverage");
        validator.Check("FhirBundle", await Tenant.GetJsonAsync($"/fhir/r4/Patient/{patientId}/$everything"), "$everything");
        Assert.True(checkedItems > 100, $"only {checkedItems} items checked");
    }

    private async Task<SchemaValidator> ValidatorAsync()
    {
        var document = JsonNode.Parse(await Tenant.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)))!.AsObject();
        // The document's components as one schema resource, so that "#/components/schemas/…" references resolve.
        var root = new JsonObject { ["$id"] = DocumentId, ["$schema"] = "https://json-schema.org/draft/2020-12/schema", ["components"] = document["components"]!.DeepClone() };
        // OpenAPI's own keywords (discriminator, example) sit beside JSON Schema's: let them be.
        Document = document;
        var build = new BuildOptions
        {
            SchemaRegistry = new SchemaRegistry(),
            Dialect = Dialect.Draft202012.With([], allowUnknownKeywords: true),
        };
        build.SchemaRegistry.Register(JsonSchema.FromText(root.ToJsonString(), build));
        return new SchemaValidator(build);
    }

    private JsonObject Document { get; set; } = null!;

    /// <summary>
    /// Schemas leave extra properties allowed (clients must tolerate additions); this says whether the builder writes a
    /// field the contract does not name: every property of every item is in its category's shape.
    /// </summary>
    private void AssertItemsNameOnlyDocumentedFields(JsonElement page, string what)
    {
        var schemas = Document["components"]!["schemas"]!;
        var mapping = schemas["RecordItem"]!["discriminator"]!["mapping"]!.AsObject();
        var sourceFields = schemas["RecordItemSource"]!["properties"]!.AsObject().Select(p => p.Key).ToHashSet();
        foreach (var item in page.GetProperty("items").EnumerateArray())
        {
            var shape = mapping[item.GetProperty("category").GetString()!]!.GetValue<string>().Split('/')[^1];
            // A shape's own properties, and those of the shapes it extends (allOf).
            var fields = schemas[shape]!["properties"]!.AsObject().Select(p => p.Key).ToHashSet();
            foreach (var parent in schemas[shape]!["allOf"]?.AsArray() ?? [])
            {
                fields.UnionWith(schemas[parent!["$ref"]!.GetValue<string>().Split('/')[^1]]!["properties"]!.AsObject().Select(p => p.Key));
            }

            Assert.All(item.EnumerateObject(), p => Assert.True(fields.Contains(p.Name), $"{what}: {shape} does not describe `{p.Name}`"));
            Assert.All(item.GetProperty("sources").EnumerateArray().SelectMany(s => s.EnumerateObject()),
                p => Assert.True(sourceFields.Contains(p.Name), $"{what}: RecordItemSource does not describe `{p.Name}`"));
        }
    }

    private sealed class SchemaValidator(BuildOptions build)
    {
        public void Check(string schemaName, JsonElement answer, string what)
        {
            var schema = JsonSchema.FromText($$"""{ "$ref": "{{DocumentId}}#/components/schemas/{{schemaName}}" }""", build);
            var result = schema.Evaluate(answer, new EvaluationOptions { OutputFormat = OutputFormat.List });
            Assert.True(result.IsValid, $"{what} does not match {schemaName}: " + string.Join("; ", (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
                .Take(8).Select(d => $"{d.InstanceLocation}: {string.Join(", ", d.Errors!.Values)}")));
        }
    }
}
