using System.Globalization;

namespace Aggregator.Benchmarks;

internal static class Arguments
{
    public static int Int(string[] args, string name, int fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length && int.TryParse(args[at + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : fallback;
    }

    /// <summary>The text after <paramref name="name"/>, or null when it is not given.</summary>
    public static string? Text(string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    /// <summary>A comma-separated list of whole numbers, e.g. <c>--workers 1,2,3</c>.</summary>
    public static IReadOnlyList<int> Ints(string[] args, string name, IReadOnlyList<int> fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length
            ? [.. args[at + 1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => int.Parse(v, NumberStyles.Integer, CultureInfo.InvariantCulture))]
            : fallback;
    }

    /// <summary>The repository root: the folder above this program's that holds Aggregator.sln.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Aggregator.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Run the benchmarks from the repository (Aggregator.sln not found above the program).");
    }

    /// <summary>The median and the 95th percentile of some durations, in milliseconds.</summary>
    public static (double Median, double P95) Spread(List<double> values)
    {
        values.Sort();
        return (values[values.Count / 2], values[Math.Min(values.Count - 1, (int)Math.Ceiling(values.Count * 0.95) - 1)]);
    }
}
