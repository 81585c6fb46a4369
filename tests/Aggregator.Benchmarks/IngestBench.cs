using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Aggregator.Domain.Connections;
using Aggregator.Domain.Patients;
using Aggregator.Domain.Providers;
using Aggregator.Domain.Tenants;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Records;
using Aggregator.Infrastructure.Sync;
using Aggregator.Infrastructure.Tenants;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Aggregator.Benchmarks;

/// <summary>
/// Ingest and rebuild through the same code a sync runs, minus the HTTP: each sample patient's
/// resources as search pages of 100 (JSON bytes) → <see cref="SearchPage"/> parse →
/// <see cref="SourceConversion"/> → <see cref="ResourceBatchWriter"/> (COPY + upsert of what
/// changed); then <see cref="RecordBuilder"/> per patient (normalise, de-duplicate, write items).
/// </summary>
internal sealed class IngestBench : IAsyncDisposable
{
    private const int PageSize = 100;
    private readonly IHost _host;
    private readonly List<(Guid PatientId, Guid ConnectionId, List<byte[]> Pages, int Resources, long Bytes)> _patients;

    private IngestBench(IHost host, Guid tenantId, Guid providerId, List<(Guid, Guid, List<byte[]>, int, long)> patients)
    {
        _host = host;
        TenantId = tenantId;
        ProviderId = providerId;
        _patients = patients;
    }

    public Guid TenantId { get; }

    /// <summary>The one R4 provider every benchmark patient is connected to.</summary>
    public Guid ProviderId { get; }

    public IReadOnlyList<Guid> PatientIds => [.. _patients.Select(p => p.PatientId)];

    public IServiceProvider Services => _host.Services;

    /// <summary>The certificate over the key ring, which the Api process must be given too.</summary>
    public string KeyRingCertificatePath => _host.Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>()["DataProtection:CertificatePath"]!;

    public static async Task<IngestBench> PrepareAsync(string connectionString, string samples, int copies, string keyRingCertificatePath)
    {
        var host = BenchHost.Build(connectionString, keyRingCertificatePath);
        await host.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(CancellationToken.None);

        var files = Directory.GetFiles(Path.Combine(samples, "r4"), "*.json")
            .Where(f => !Path.GetFileName(f).Contains("Information", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        var pagesPerFile = files.Select(Pages).ToList();

        await using var scope = host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AggregatorDbContext>();
        var now = DateTimeOffset.UtcNow;
        var tenant = new Tenant { Id = Guid.CreateVersion7(), Name = "Bench Health", CreatedAt = now };
        var provider = new Provider
        {
            Id = Guid.CreateVersion7(), Slug = "bench-r4", Name = "Bench (R4)", Brand = "Bench", FhirVersion = FhirVersion.R4,
            FhirBaseUrl = "https://bench.example/fhir/r4/", Origin = "bench", CreatedAt = now, UpdatedAt = now,
        };
        db.Tenants.Add(tenant);
        db.Providers.Add(provider);
        var patients = new List<(Guid, Guid, List<byte[]>, int, long)>();
        for (var copy = 0; copy < copies; copy++)
        {
            for (var file = 0; file < files.Count; file++)
            {
                var patient = new Patient { Id = Guid.CreateVersion7(), TenantId = tenant.Id, ExternalId = $"bench-{copy}-{file}", CreatedAt = now };
                var connection = new Connection
                {
                    Id = Guid.CreateVersion7(), TenantId = tenant.Id, PatientId = patient.Id, ProviderId = provider.Id,
                    Status = ConnectionStatus.Active, ProviderPatientId = "p" + file, ConfirmedAt = now, CreatedAt = now, UpdatedAt = now,
                };
                db.Patients.Add(patient);
                db.Connections.Add(connection);
                var (pages, count, bytes) = pagesPerFile[file];
                patients.Add((patient.Id, connection.Id, pages, count, bytes));
            }
        }

        await db.SaveChangesAsync();
        return new IngestBench(host, tenant.Id, provider.Id, patients);
    }

    public async Task IngestAsync(BenchReport report)
    {
        var total = _patients.Sum(p => p.Resources);
        var megabytes = _patients.Sum(p => p.Bytes) / 1024.0 / 1024.0;
        // The faster of two runs: the first also pays for warming up (JIT, a cold table).
        var copy = Math.Min(await CopyCeilingAsync(), await CopyCeilingAsync());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Ceiling: COPY of the same {total:N0} resources into a jsonb table (binary, one COPY per page, nothing else) in {copy:0.00} s = {total / copy:N0} resources/s"));
        foreach (var (pass, path) in new[] { ("first sync (all new)", "ingest: all new"), ("second sync (all unchanged)", "ingest: all unchanged") })
        {
            var stopwatch = Stopwatch.StartNew();
            long written = 0;
            await using var session = await Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync();
            foreach (var (_, connectionId, pages, _, _) in _patients)
            {
                var writer = new ResourceBatchWriter(session, TenantId, connectionId, TimeProvider.System);
                foreach (var body in pages)
                {
                    var page = SearchPage.Parse(body);
                    var batch = page.Entries.Select(e => SourceConversion.Prepare(e, e.ResourceType ?? "Unknown", FhirVersion.R4)).ToList();
                    var result = await writer.WriteAsync(batch, CancellationToken.None);
                    written += result.New + result.Changed;
                }
            }

            var elapsed = stopwatch.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Ingest, {pass}: {total:N0} resources ({megabytes:0.0} MB, {written:N0} rows written) in {elapsed:0.00} s = {total / elapsed:N0} resources/s, {megabytes / elapsed:0.0} MB/s"));
            report.Add(new BenchFigure(path, total / elapsed, "resources/s", "COPY into jsonb", total / copy, HigherIsBetter: true, Target: 0.5,
                string.Create(CultureInfo.InvariantCulture, $"{megabytes / elapsed:0.0} MB/s; parse, convert, COPY into staging, upsert")));
        }
    }

    /// <summary>
    /// The ingest's ceiling: the same resources, already as JSON text, written by a plain binary COPY (one per page of
    /// 100, as the sync writes), with no parsing, hashing, staging or upsert. Seconds for all of them.
    /// </summary>
    private Task<double> CopyCeilingAsync() =>
        CopyCeiling.SecondsAsync(Services.GetRequiredService<NpgsqlDataSource>(), [.. _patients.SelectMany(p => p.Pages.Select(body =>
            (IReadOnlyList<(Guid, string, string, string)>)[.. SearchPage.Parse(body).Entries.Select(e => (p.ConnectionId, e.ResourceType ?? "Unknown", e.ResourceId ?? "", e.RawJson))]))]);

    public async Task RebuildAsync()
    {
        var times = new List<double>();
        var stopwatch = Stopwatch.StartNew();
        foreach (var (patientId, _, _, _, _) in _patients)
        {
            var one = Stopwatch.StartNew();
            await using var scope = Services.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<CurrentTenant>().Set(TenantId);
            await scope.ServiceProvider.GetRequiredService<IRecordRebuilder>().RebuildAsync(patientId, CancellationToken.None);
            times.Add(one.Elapsed.TotalMilliseconds);
        }

        var elapsed = stopwatch.Elapsed.TotalSeconds;
        var resources = _patients.Sum(p => p.Resources);
        var (median, p95) = Arguments.Spread(times);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Record rebuild (normalise, de-duplicate, write items): {_patients.Count} patients, {resources:N0} resources in {elapsed:0.00} s = {resources / elapsed:N0} resources/s; per patient median {median:0} ms, p95 {p95:0} ms"));
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        _host.Dispose();
        await Task.CompletedTask;
    }

    /// <summary>A sample patient's resources as searchset pages of <see cref="PageSize"/>, as a server would send them.</summary>
    private static (List<byte[]> Pages, int Count, long Bytes) Pages(string file)
    {
        var bundle = JsonNode.Parse(File.ReadAllBytes(file))!;
        var resources = bundle["entry"]!.AsArray().Select(e => e!["resource"]!.ToJsonString()).ToList();
        var pages = resources.Chunk(PageSize)
            .Select(chunk => Encoding.UTF8.GetBytes($"{{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[{string.Join(',', chunk.Select(r => $"{{\"resource\":{r}}}"))}]}}"))
            .ToList();
        return (pages, resources.Count, resources.Sum(r => (long)Encoding.UTF8.GetByteCount(r)));
    }
}
