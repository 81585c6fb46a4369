namespace Aggregator.Infrastructure.Jobs;

/// <summary>Hangfire's global job filters are one list per process: each of ours goes in once, however many hosts start.</summary>
internal static class ProcessJobFilters
{
    private static readonly Lock Registration = new();
    private static readonly HashSet<Type> Added = [];

    public static void AddOnce<TFilter>() where TFilter : new()
    {
        lock (Registration)
        {
            if (Added.Add(typeof(TFilter)))
            {
                Hangfire.GlobalJobFilters.Filters.Add(new TFilter());
            }
        }
    }
}
