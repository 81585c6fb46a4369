namespace Aggregator.IntegrationTests.Infrastructure;

/// <summary>Finds the repository root from the test assembly's folder.</summary>
public static class RepositoryPaths
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Aggregator.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (the folder holding Aggregator.sln) was not found above the test binaries.");
    });

    public static string Root => RootPath.Value;
}
