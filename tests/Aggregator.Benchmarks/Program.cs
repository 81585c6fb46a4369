// Aggregator's benchmarks: dotnet run -c Release --project tests/Aggregator.Benchmarks [-- --copies N --seconds S --json FILE]
// Figures for the README's performance section on this machine, each beside its ceiling measured in the same run: ingest (parse,
// convert, COPY + upsert) beside a bare COPY, the merge at 1×/10×/100× one patient, and reads over real HTTP beside a bare endpoint
// serving the same bytes. One table at the end, also written as JSON (benchmark-results.json unless --json says where).
// The dispatcher at scale on its own: dotnet run -c Release --project tests/Aggregator.Benchmarks -- dispatch [--sizes 10000,1000000]
// Syncs per minute with 1..N Worker processes: dotnet run -c Release --project tests/Aggregator.Benchmarks -- scaleout [--connections 300 --workers 1,2,3]
// One very large patient (sync, re-sync, reads, export; time and peak memory): dotnet run -c Release --project tests/Aggregator.Benchmarks -- large [--readings 50000]
// Where one sync's time goes (provider requests, database, rebuild, the rest): dotnet run -c Release --project tests/Aggregator.Benchmarks -- profile [--people 3]
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
await MergeBench.RunAsync(bench, samples, report);
await ReadBench.RunAsync(repo, database.ConnectionString, bench, TimeSpan.FromSeconds(seconds), report);
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
