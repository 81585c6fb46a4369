// Aggregator's benchmarks: dotnet run -c Release --project tests/Aggregator.Benchmarks [-- --copies N --seconds S --syncs N --json FILE --reads cached,database,summary]
// Figures for the README's performance section on this machine, each beside its ceiling measured in the same run: ingest (parse,
// convert, COPY + upsert) beside a bare COPY, the merge at 1×/10×/100× one patient, reads over real HTTP beside a bare endpoint
// serving the same bytes, and many first syncs by a Worker (then the same again, nothing changed) beside a bare client of the same
// sandbox and a bare COPY. One table at the end, also written as JSON (benchmark-results.json unless --json says where).
// The dispatcher at scale on its own: dotnet run -c Release --project tests/Aggregator.Benchmarks -- dispatch [--sizes 10000,1000000]
// Syncs per minute with 1..N Worker processes: dotnet run -c Release --project tests/Aggregator.Benchmarks -- scaleout [--connections 300 --workers 1,2,3]
// One very large patient (sync, re-sync, reads, export; time and peak memory): dotnet run -c Release --project tests/Aggregator.Benchmarks -- large [--readings 50000]
// Where one sync's time goes (provider requests, database, rebuild, the rest), then a slower provider with one and several requests at once: dotnet run -c Release --project tests/Aggregator.Benchmarks -- profile [--people 3 --latency 100]
// The sync rows alone (many first syncs, the no-change re-sync, their ceilings): dotnet run -c Release --project tests/Aggregator.Benchmarks -- syncs [--syncs 46]
using System.Diagnostics;
using System.Globalization;
using Aggregator.Benchmarks;

var copies = Arguments.Int(args, "--copies", 20);
var seconds = Arguments.Int(args, "--seconds", 10);
if (args.FirstOrDefault() == "bare")
{
    // The reads' ceiling, run as a child process by the read benchmark.
    return await BareEndpoint.ServeAsync(args);
}

var repo = Arguments.RepositoryRoot();
if (args.FirstOrDefault() == "dispatch")
{
    return await DispatchBench.CommandAsync(repo, args);
}

if (args.FirstOrDefault() == "scaleout")
{
    return await ScaleOutBench.CommandAsync(repo, args);
}

if (args.FirstOrDefault() == "large")
{
    return await LargePatientBench.CommandAsync(repo, args);
}

if (args.FirstOrDefault() == "profile")
{
    return await SyncProfileBench.CommandAsync(repo, args);
}

if (args.FirstOrDefault() == "syncs")
{
    // The sync rows of the table on their own.
    var syncReport = new BenchReport();
    await SyncBench.RunAsync(repo, syncReport, Arguments.Int(args, "--syncs", 46));
    syncReport.Print("Syncs beside their ceilings");
    return 0;
}

var samples = Environment.GetEnvironmentVariable("AGGREGATOR_FHIR_SAMPLES") ?? Path.Combine(repo, "data", "fhir-samples");
if (!Directory.Exists(Path.Combine(samples, "r4")))
{
    Console.Error.WriteLine($"error: the FHIR samples were not found at {samples} (set AGGREGATOR_FHIR_SAMPLES).");
    return 1;
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"Aggregator benchmarks — {Environment.ProcessorCount} cores, .NET {Environment.Version}, {copies} copies of the R4 sample patients, {seconds} s per read run"));
await using var database = await BenchDatabase.StartAsync(repo);
var stopwatch = Stopwatch.StartNew();
using var keyRing = new KeyRingCertificate();
await using var bench = await IngestBench.PrepareAsync(database.ConnectionString, samples, copies, keyRing.Path);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Database ready and migrated in {stopwatch.Elapsed.TotalSeconds:0.0} s ({database.Description})"));

var report = new BenchReport();
await bench.IngestAsync(report);
await bench.RebuildAsync();
// --reads names some read paths to run alone (to profile one): the merge rows are then left out.
var reads = Arguments.Text(args, "--reads")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
if (reads is null)
{
    await MergeBench.RunAsync(bench, samples, report);
}

await ReadBench.RunAsync(repo, database.ConnectionString, bench, TimeSpan.FromSeconds(seconds), report, reads);
var syncs = Arguments.Int(args, "--syncs", 46);
if (reads is null && syncs > 0)
{
    await SyncBench.RunAsync(repo, report, syncs);
}

report.Print(string.Create(CultureInfo.InvariantCulture,
    $"Figures beside their ceilings ({Environment.ProcessorCount} cores, {copies} copies of the R4 samples, {seconds} s per read run; a ratio of 1.00 is the ceiling)"));
await report.WriteJsonAsync(Arguments.Text(args, "--json") ?? "benchmark-results.json", new
{
    cores = Environment.ProcessorCount,
    dotnet = Environment.Version.ToString(),
    copies,
    readSeconds = seconds,
    database = database.Description,
    at = DateTimeOffset.UtcNow,
});
return 0;
