using Aggregator.IntegrationTests.Infrastructure;
using Aggregator.Sandbox.Demo;
using Aggregator.Sandbox.Tests.Hosting;

namespace Aggregator.IntegrationTests.Records;

/// <summary>
/// De-duplication measured against the sandbox's ground truth: a generated person seen by NextGen
/// (R4 and DSTU2), Epic and Cerner, with shared facts, single facts and near-misses that must stay apart.
/// </summary>
public sealed class DeduplicationAccuracyTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox, jobServer: true)
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task Precision_and_recall_are_100_percent_on_a_generated_person(int person)
    {
        var nextgen = Sandbox.Generated("nextgen", "R4", person);
        var personas = new (string Slug, SandboxLogin Login)[]
        {
            ("sandbox-nextgen-r4", nextgen),
            ("sandbox-nextgen-dstu2", Sandbox.Generated("nextgen", "DSTU2", person)),
            ("sandbox-epic-r4", Sandbox.Generated("epic", "R4", person)),
            ("sandbox-cerner-r4", Sandbox.Generated("cerner", "R4", person)),
        };
        Assert.All(personas, p => Assert.Equal(nextgen.PersonId, p.Login.PersonId));
        var patientId = (await Tenant.PutPatientAsync($"generated-{person}")).GetProperty("id").GetGuid();
        var connections = new Dictionary<(string Persona, string Version), Guid>();
        foreach (var (slug, login) in personas)
        {
            connections[(login.Persona, login.FhirVersion)] = await Api.ConnectExistingAsync(Tenant, Sandbox, patientId, slug, login);
        }

        foreach (var connection in connections.Values)
        {
            Assert.Equal("succeeded", (await Tenant.WaitForRunAsync(connection)).GetProperty("status").GetString());
        }

        var truth = (await Sandbox.Server.OverlapAsync(nextgen.PersonId)).Single().Facts;
        var factOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var fact in truth)
        {
            foreach (var resource in fact.Resources)
            {
                factOf[Key(connections[(resource.Persona, resource.FhirVersion)], resource.ResourceType, resource.ResourceId)] = fact.FactId;
            }
        }

        var itemOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in await Tenant.AllItemsAsync(patientId, includeRetracted: true))
        {
            foreach (var source in item.GetProperty("sources").EnumerateArray())
            {
                itemOf[Key(source.GetProperty("connectionId").GetGuid(), source.GetProperty("resourceType").GetString()!, source.GetProperty("resourceId").GetString()!)] = item.GetProperty("id").GetString()!;
            }
        }

        // Every fact's resources are in the record, and pairs of resources are judged: same fact, same item? (Scored as `demo accuracy` scores.)
        var score = DeduplicationScore.Compute(factOf, itemOf);
        Assert.True(score.Missing.Count == 0, "Not in any merged item: " + string.Join(", ", score.Missing.Take(10)));
        var keys = factOf.Keys.Order(StringComparer.Ordinal).ToList();
        var wrong = keys.SelectMany(a => keys.Where(b => string.CompareOrdinal(a, b) < 0 && (factOf[a] == factOf[b]) != (itemOf[a] == itemOf[b]))
            .Select(b => $"{a} ~ {b}: truth {(factOf[a] == factOf[b] ? "same" : "different")}")).Take(8);
        TestContext.Current.SendDiagnosticMessage($"person {person}: {score}");
        Assert.True(score.Precision == 1.0 && score.Recall == 1.0, $"{score}; e.g. {string.Join("; ", wrong)}");
    }

    private static string Key(Guid connectionId, string type, string id) => $"{connectionId}/{type}/{id}";
}
