using Aggregator.Domain.Providers;
using Aggregator.Infrastructure.Providers;
using Aggregator.IntegrationTests.Infrastructure;
using Aggregator.Sandbox.Accuracy;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.IntegrationTests.Records;

/// <summary>
/// The accuracy check on the repository's sample patients: each seen by NextGen (the original bundles) and by
/// a second provider that writes the same facts its own way (persona <c>second</c>, built with a fixed seed:
/// local codings, other UCUM units, other UTC offsets, dates without times, dropped references and texts,
/// facts left out, near misses added). Precision must be 100% and recall at least 99% in every category.
/// </summary>
public sealed class SecondProviderAccuracyTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox, jobServer: true)
{
    [Fact]
    public async Task Every_sample_patient_seen_by_a_second_provider_merges_with_full_precision_and_at_least_99_percent_recall_per_category()
    {
        var truth = Sandbox.SecondProvider;
        Assert.Equal(8, truth.Patients.Count);
        await using (var scope = Api.Services.CreateAsyncScope())
        {
            var directory = scope.ServiceProvider.GetRequiredService<ProviderAdministration>();
            var provider = await directory.UpsertAsync(
                new ProviderEntry("accuracy-second", "Second provider (accuracy check)", "Second", FhirVersion.R4, new Uri(Sandbox.Root, "second/fhir/r4/").AbsoluteUri),
                "test", TestContext.Current.CancellationToken);
            await directory.SetClientAsync(provider, null, "second-public-app", ClientAuthenticationMethod.None, null, null, null, TestContext.Current.CancellationToken);
            await directory.SaveAsync(TestContext.Current.CancellationToken);
        }

        var factOf = new Dictionary<string, string>(StringComparer.Ordinal);
        var placements = new Dictionary<string, Placement>(StringComparer.Ordinal);
        foreach (var (patient, index) in truth.Patients.Select((p, i) => (p, i)))
        {
            var first = Sandbox.Logins.Single(l => l.Persona == "nextgen" && l.FhirVersion == "R4" && l.Source == patient.Source);
            var second = Sandbox.Logins.Single(l => l.Persona == "second" && l.Source == patient.Source);
            Assert.Equal(patient.SecondPatientId, second.PatientId);
            var patientId = (await Tenant.PutPatientAsync($"second-provider-{index}")).GetProperty("id").GetGuid();
            var firstConnection = await Api.ConnectExistingAsync(Tenant, Sandbox, patientId, "sandbox-nextgen-r4", first);
            var secondConnection = await Api.ConnectExistingAsync(Tenant, Sandbox, patientId, "accuracy-second", second);
            foreach (var connection in new[] { firstConnection, secondConnection })
            {
                Assert.Equal("succeeded", (await Tenant.WaitForRunAsync(connection, limit: TimeSpan.FromMinutes(3))).GetProperty("status").GetString());
            }

            var (facts, placed) = SecondProviderScoring.Collect(patient, firstConnection, "", secondConnection, await Tenant.AllItemsAsync(patientId, includeRetracted: true));
            foreach (var (key, fact) in facts)
            {
                factOf[key] = fact;
            }

            foreach (var (key, placement) in placed)
            {
                placements[key] = placement;
            }
        }

        var scores = CategoryScores.Compute(factOf, placements);
        TestContext.Current.SendDiagnosticMessage("second provider of the samples, seed {0}:\n{1}", truth.Seed, scores);
        Assert.True(scores.All.Missing.Count == 0, "Not in any merged item: " + string.Join(", ", scores.All.Missing.Take(10)));
        Assert.True(scores.All.TruePairs > 1500, $"Too few true pairs to judge: {scores.All}");
        Assert.True(scores.All.Precision == 1.0 && scores.All.Recall >= 0.99, $"all: {scores.All}\n{scores}");
        Assert.All(scores.ByCategory, category => Assert.True(
            category.Value.Precision == 1.0 && category.Value.Recall >= 0.99, $"{category.Key}: {category.Value}\n{scores}\ne.g. {Examples(category.Key, factOf, placements)}"));
    }

    /// <summary>A few resources the merge got wrong in a category: joined though different facts, or one fact split.</summary>
    private static string Examples(string category, Dictionary<string, string> factOf, Dictionary<string, Placement> placements)
    {
        var keys = factOf.Keys.Where(k => placements.TryGetValue(k, out var p) && p.Category == category).ToList();
        var wrong = keys.GroupBy(k => placements[k].ItemId).Where(g => g.Select(k => factOf[k]).Distinct().Count() > 1)
            .Select(g => "joined: " + string.Join(" + ", g.Select(k => $"{k} ({factOf[k]})")))
            .Concat(keys.GroupBy(k => factOf[k]).Where(g => g.Select(k => placements[k].ItemId).Distinct().Count() > 1)
                .Select(g => "split: " + string.Join(" / ", g)));
        return string.Join("\n", wrong.Take(6));
    }
}
