namespace Aggregator.Infrastructure.Persistence;

public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>The Api migrates at start-up unless a separate migration job owns that (set false there).</summary>
    public bool MigrateOnStartup { get; set; } = true;

    /// <summary>The schema Hangfire keeps its jobs in, beside ours.</summary>
    public string HangfireSchema { get; set; } = "hangfire";

    /// <summary>How many reads of the record's items one Api replica runs in the database at once; the rest wait in turn.</summary>
    public int MaxConcurrentReads { get; set; } = 16;

    /// <summary>How long a read waits for one of those slots before the Api answers 503 (try again shortly).</summary>
    public TimeSpan ReadQueueTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
