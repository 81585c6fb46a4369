using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Aggregator.Domain.Connections;
using Aggregator.Domain.Patients;
using Aggregator.Domain.Providers;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Sync;
using Aggregator.Infrastructure.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Aggregator.Benchmarks;

/// <summary>
/// How the record's merge grows with a patient's size: one sample patient (the median of the repository's R4
/// samples by resource count) stored once, 10 times and 100 times in one connection, each copy under its own
/// resource ids, and its record built from nothing (normalise, de-duplicate every copy of a fact into one item
/// with every copy as a source, render, write). The ceiling of N× is N times the 1× time: work that grows in
/// proportion to the input. Several patients at the smaller sizes, the median taken.
/// </summary>
internal static class MergeBench
{
    public static async Task RunAsync(IngestBench bench, string samples, BenchReport report)
    {
        var files = Directory.GetFiles(Path.Combine(samples, "r4"), "*.json")
            .Where(f => !Path.GetFileName(f).Contains("Information", StringComparison.Ordinal))
            .Select(f => (File: f, Resources: JsonNode.Parse(File.ReadAllBytes(f))!["entry"]!.AsArray().Select(e => e!["resource"]!).ToList()))
            .OrderBy(f => f.Resources.Count).ThenBy(f => f.File, StringComparer.Ordinal).ToList();
        var (file, resources) = files[files.Count / 2];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Merge scaling: {Path.GetFileNameWithoutExtension(file)[..Math.Min(20, Path.GetFileNameWithoutExtension(file).Length)]}…, {resources.Count} resources, built at 1×, 10× and 100×"));
        double? once = null;
        var previous = (Times: 1, Ms: 0.0);
        foreach (var (times, patients) in new[] { (1, 9), (10, 3), (100, 1) })
        {
            var durations = new List<double>();
            var items = 0;
            for (var i = 0; i < patients; i++)
            {
                var patientId = await StoreAsync(bench, resources, times);
                var stopwatch = Stopwatch.StartNew();
                await using (var scope = bench.Services.CreateAsyncScope())
                {
                    scope.ServiceProvider.GetRequiredService<CurrentTenant>().Set(bench.TenantId);
                    await scope.ServiceProvider.GetRequiredService<IRecordRebuilder>().RebuildAsync(patientId, CancellationToken.None);
                }

                durations.Add(stopwatch.Elapsed.TotalMilliseconds);
                await using var count = bench.Services.CreateAsyncScope();
                count.ServiceProvider.GetRequiredService<CurrentTenant>().Set(bench.TenantId);
                items = await count.ServiceProvider.GetRequiredService<AggregatorDbContext>().RecordItems.CountAsync(r => r.PatientId == patientId && r.DeletedAt == null);
            }

            var (median, _) = Arguments.Spread(durations);
            once ??= median;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {times}×: {resources.Count * times:N0} resources → {items:N0} items; rebuild {median:N0} ms (median of {patients})"));
            if (times > 1)
            {
                // The issue's measure (N× against N times 1×) counts a rebuild's fixed costs N times in the ceiling; the
                // marginal cost per 1,000 resources between sizes shows the growth without them.
                var marginal = (median - previous.Ms) / ((times - previous.Times) * resources.Count / 1000.0);
                report.Add(new BenchFigure($"merge: one patient ×{times} ({resources.Count * times:N0} resources)", median, "ms", $"{times} × the 1× time", times * once.Value,
                    HigherIsBetter: false, Target: times == 100 ? 1 / 1.2 : null,
                    string.Create(CultureInfo.InvariantCulture,
                        $"{items:N0} items; 1×: {once.Value:N0} ms for {resources.Count} resources; {marginal:N0} ms per 1,000 more resources from {previous.Times}× to {times}×")));
            }

            previous = (times, median);
        }
    }

    /// <summary>A new patient with one connection holding <paramref name="times"/> copies of the resources, each copy under ids of its own.</summary>
    private static async Task<Guid> StoreAsync(IngestBench bench, List<JsonNode> resources, int times)
    {
        var now = DateTimeOffset.UtcNow;
        var patient = new Patient { Id = Guid.CreateVersion7(), TenantId = bench.TenantId, ExternalId = $"merge-{times}-{Guid.NewGuid():N}", CreatedAt = now };
        var connection = new Connection
        {
            Id = Guid.CreateVersion7(), TenantId = bench.TenantId, PatientId = patient.Id, ProviderId = bench.ProviderId,
            Status = ConnectionStatus.Active, ProviderPatientId = "merge", ConfirmedAt = now, CreatedAt = now, UpdatedAt = now,
        };
        await using (var scope = bench.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AggregatorDbContext>();
            db.Patients.Add(patient);
            db.Connections.Add(connection);
            await db.SaveChangesAsync();
        }

        await using var session = await bench.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync();
        var writer = new ResourceBatchWriter(session, bench.TenantId, connection.Id, TimeProvider.System);
        var copies = Enumerable.Range(0, times).SelectMany(copy => resources.Select(resource =>
        {
            var clone = resource.DeepClone();
            if (copy > 0)
            {
                clone["id"] = $"{clone["id"]}-{copy}";
            }

            return clone.ToJsonString();
        }));
        foreach (var chunk in copies.Chunk(100))
        {
            var body = Encoding.UTF8.GetBytes($"{{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[{string.Join(',', chunk.Select(r => $"{{\"resource\":{r}}}"))}]}}");
            var batch = SearchPage.Parse(body).Entries.Select(e => SourceConversion.Prepare(e, e.ResourceType ?? "Unknown", FhirVersion.R4)).ToList();
            await writer.WriteAsync(batch, CancellationToken.None);
        }

        return patient.Id;
    }
}
