using System.Diagnostics;
using Aggregator.Sandbox.Personas;
using Microsoft.Extensions.Options;

namespace Aggregator.Sandbox.FhirData;

/// <summary>Builds every persona's datasets from the bundles under <c>Sandbox:DataDir</c>.</summary>
public sealed partial class FhirDataLoader(PersonaCatalog personas, IOptions<SandboxOptions> options, ILogger<FhirDataLoader> logger)
{
    public IReadOnlyList<FhirDataset> Load(CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var dataDir = options.Value.DataDir;
        var datasets = new List<FhirDataset>();
        foreach (var version in new[] { FhirVersion.R4, FhirVersion.Dstu2 })
        {
            var bundles = ReadFolder(dataDir, version, cancellationToken);
            foreach (var persona in personas.All.Where(p => p.Serves(version)))
            {
                datasets.Add(persona.Options.ServesLoadedData
                    ? BuildDataset(persona, version, bundles)
                    : new FhirDataset(persona.Name, version, [], []));
            }
        }

        var resourceCount = datasets.Sum(d => d.Count);
        LogLoaded(logger, resourceCount, datasets.Count, stopwatch.ElapsedMilliseconds);
        return datasets;
    }

    private List<LoadedBundle> ReadFolder(string? dataDir, FhirVersion version, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(dataDir))
        {
            return [];
        }

        // A relative folder is read from the working directory (src/Sandbox under `dotnet run`).
        var root = Path.GetFullPath(dataDir);
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"Sandbox:DataDir names a folder that does not exist: {root}");
        }

        var folder = Path.Combine(root, version.PathSegment());
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

    private static FhirDataset BuildDataset(Persona persona, FhirVersion version, List<LoadedBundle> bundles)
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
                if (ResourceJson.TypeOf(original) != "Patient")
                {
                    continue;
                }

                var personId = PatientAccounts.PersonId(version.PathSegment(), bundle.Source, ResourceJson.IdOf(original)!);
                var userName = PatientAccounts.UserNameBase(original);
                for (var n = 2; !userNames.Add(userName); n++)
                {
                    userName = $"{PatientAccounts.UserNameBase(original)}{n}";
                }

                accounts.Add(new PatientAccount(
                    persona.Name,
                    version.DisplayName(),
                    ResourceJson.IdOf(resource)!,
                    personId,
                    userName,
                    PatientAccounts.Password(personId, persona.Name),
                    PatientAccounts.DisplayName(original),
                    bundle.Source));
            }
        }

        return new FhirDataset(persona.Name, version, resources, accounts);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded {ResourceCount} resources into {DatasetCount} FHIR bases in {ElapsedMs} ms")]
    private static partial void LogLoaded(ILogger logger, int resourceCount, int datasetCount, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The data folder has no {FhirVersion} subfolder; nothing loaded for that version")]
    private static partial void LogNoFolder(ILogger logger, string fhirVersion);
}
