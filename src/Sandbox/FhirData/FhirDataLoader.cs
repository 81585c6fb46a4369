using System.Diagnostics;
using System.Text.Json.Nodes;
using Aggregator.Sandbox.Generator;
using Aggregator.Sandbox.Personas;
using Microsoft.Extensions.Options;

namespace Aggregator.Sandbox.FhirData;

/// <summary>What loading produced: every base's dataset, and the overlap ground truth of the generated people.</summary>
public sealed record LoadedData(IReadOnlyList<FhirDataset> Datasets, IReadOnlyList<PersonOverlap> Overlap);

/// <summary>Builds every persona's datasets from the bundles under <c>Sandbox:DataDir</c> and the generated people.</summary>
public sealed partial class FhirDataLoader(PersonaCatalog personas, PeopleGenerator generator, IOptions<SandboxOptions> options,
    ILogger<FhirDataLoader> logger)
{
    public const string GeneratedSource = "generated";

    public LoadedData Load(CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var dataDir = options.Value.DataDir;
        var settings = options.Value.Generator;
        var population = settings.People > 0 ? generator.Generate(settings.Seed, settings.People, settings.ExchangedShare, settings.HomeReadings) : GeneratedPopulation.Empty;
        if (population.People.Count > 0)
        {
            LogGenerated(logger, population.People.Count, population.ResourceCount, settings.Seed);
        }

        var datasets = new List<FhirDataset>();
        foreach (var version in new[] { FhirVersion.R4, FhirVersion.Dstu2 })
        {
            var folders = new Dictionary<string, List<LoadedBundle>>(StringComparer.Ordinal);
            foreach (var persona in personas.All.Where(p => p.Serves(version)))
            {
                // A persona with a data folder of its own serves that; the others share Sandbox:DataDir (read once).
                var folder = persona.Options.DataDir is { Length: > 0 } own ? own : dataDir ?? "";
                if (!folders.TryGetValue(folder, out var bundles))
                {
                    folders[folder] = bundles = ReadFolder(folder, version, allowFlat: persona.Options.DataDir is { Length: > 0 }, cancellationToken);
                }

                datasets.Add(BuildDataset(persona, version, persona.Options.ServesLoadedData ? bundles : [], population));
            }
        }

        var resourceCount = datasets.Sum(d => d.Count);
        LogLoaded(logger, resourceCount, datasets.Count, stopwatch.ElapsedMilliseconds);
        return new LoadedData(datasets, population.Overlap);
    }

    private List<LoadedBundle> ReadFolder(string? dataDir, FhirVersion version, bool allowFlat, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(dataDir))
        {
            return [];
        }

        // A relative folder is read from the working directory (src/Sandbox under `dotnet run`).
        var root = Path.GetFullPath(dataDir);
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"A data folder (Sandbox:DataDir or a persona's DataDir) does not exist: {root}");
        }

        var folder = Path.Combine(root, version.PathSegment());
        if (!Directory.Exists(folder) && allowFlat && version == FhirVersion.R4)
        {
            folder = root; // a persona's own folder of R4 bundles
        }

        if (!Directory.Exists(folder))
        {
            LogNoFolder(logger, version.DisplayName());
            return [];
        }

        var files = Directory.GetFiles(folder, "*.json").Order(StringComparer.Ordinal).ToList();
        var bundles = new LoadedBundle[files.Count];
        Parallel.For(0, files.Count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
            bundles[i] = BundleReader.Read(files[i]));
        return [.. bundles];
    }

    private static FhirDataset BuildDataset(Persona persona, FhirVersion version, List<LoadedBundle> bundles, GeneratedPopulation population)
    {
        var prefix = persona.Options.IdPrefix;
        var resources = new List<StoredResource>();
        var accounts = new List<PatientAccount>();
        var userNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var bundle in bundles)
        {
            var filePatient = bundle.SinglePatientId;
            foreach (var original in bundle.Resources)
            {
                var resource = ResourceIndexer.WithIdPrefix(original, prefix);
                resources.Add(ResourceIndexer.Index(resource, filePatient is null ? null : prefix + filePatient));
                if (ResourceJson.TypeOf(original) == "Patient")
                {
                    var personId = PatientAccounts.PersonId(version.PathSegment(), bundle.Source, ResourceJson.IdOf(original)!);
                    accounts.Add(Account(persona, version, original, resource, personId, bundle.Source, userNames));
                }
            }
        }

        // Generated people come after the files, so the loaded patients keep their documented user ids.
        resources.AddRange(population.Resources(persona.Name, version).Select(r => ResourceIndexer.Index(r, null)));
        foreach (var patient in population.Patients(persona.Name, version))
        {
            accounts.Add(Account(persona, version, patient.Patient, patient.Patient, patient.PersonId, GeneratedSource, userNames));
        }

        return new FhirDataset(persona.Name, version, resources, accounts);
    }

    private static PatientAccount Account(Persona persona, FhirVersion version, JsonObject original, JsonObject served, string personId,
        string source, HashSet<string> userNames)
    {
        var userName = PatientAccounts.UserNameBase(original);
        for (var n = 2; !userNames.Add(userName); n++)
        {
            userName = $"{PatientAccounts.UserNameBase(original)}{n}";
        }

        return new PatientAccount(
            persona.Name,
            version.DisplayName(),
            ResourceJson.IdOf(served)!,
            personId,
            userName,
            PatientAccounts.Password(personId, persona.Name),
            PatientAccounts.DisplayName(original),
            source);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded {ResourceCount} resources into {DatasetCount} FHIR bases in {ElapsedMs} ms")]
    private static partial void LogLoaded(ILogger logger, int resourceCount, int datasetCount, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Generated {PeopleCount} people ({ResourceCount} resources) from seed {Seed}")]
    private static partial void LogGenerated(ILogger logger, int peopleCount, int resourceCount, int seed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The data folder has no {FhirVersion} subfolder; nothing loaded for that version")]
    private static partial void LogNoFolder(ILogger logger, string fhirVersion);
}
