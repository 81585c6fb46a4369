namespace Aggregator.Sandbox.Tests.Hosting;

/// <summary>
/// The repository's real-world sample patients: <c>AGGREGATOR_FHIR_SAMPLES</c>, else <c>data/fhir-samples</c> of the
/// repository found by walking up from the test assembly. Missing samples fail the tests.
/// </summary>
public static class FhirSamples
{
    private static readonly Lazy<string> Folder = new(Locate);

    public static string Directory => Folder.Value;

    public static IReadOnlyList<string> Files(string version) =>
        System.IO.Directory.GetFiles(Path.Combine(Directory, version), "*.json").Order(StringComparer.Ordinal).ToList();

    private static string Locate()
    {
        if (Environment.GetEnvironmentVariable("AGGREGATOR_FHIR_SAMPLES") is { Length: > 0 } configured)
        {
            return System.IO.Directory.Exists(configured)
                ? Path.GetFullPath(configured)
                : throw new InvalidOperationException($"AGGREGATOR_FHIR_SAMPLES names a missing folder: {configured}");
        }

        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, "data", "fhir-samples");
            if (File.Exists(Path.Combine(folder.FullName, "Aggregator.sln")) && System.IO.Directory.Exists(Path.Combine(candidate, "r4")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            "The FHIR samples were not found: expected data/fhir-samples in the repository, or AGGREGATOR_FHIR_SAMPLES.");
    }
}
