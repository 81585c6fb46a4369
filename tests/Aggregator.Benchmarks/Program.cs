// Aggregator's benchmarks: dotnet run -c Release --project tests/Aggregator.Benchmarks [-- --copies N --seconds S]
// Figures for the README's performance section on this machine: ingest (parse, convert, COPY + upsert), record rebuild, and reads over real HTTP.
// The dispatcher at scale on its own: dotnet run -c Release --project tests/Aggregator.Benchmarks -- dispatch [--sizes 10000,1000000]
// Syncs per minute with 1..N Worker processes: dotnet run -c Release --project tests/Aggregator.Benchmarks -- scaleout [--connections 300 --workers 1,2,3]
// One very large patient (sync, re-sync, reads, export; time and peak memory): dotnet run -c Release --project tests/Aggregator.Benchmarks -- large [--readings 50000]
// Where one sync's time goes (provider requests, database, rebuild, the rest): dotnet run -c Release --project tests/Aggregator.Benchmarks -- profile [--people 3]
using System.Diagnostics;
using System.Globalization;
using Aggregator.Benchmarks;

var copies = Arguments.Int(args, "--copies", 20);
var seconds = Arguments.Int(args, "--seconds", 10);
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

await bench.IngestAsync();
await bench.RebuildAsync();
await ReadBench.RunAsync(repo, database.ConnectionString, bench, TimeSpan.FromSeconds(seconds));
return 0;
