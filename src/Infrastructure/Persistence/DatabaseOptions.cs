namespace Aggregator.Infrastructure.Persistence;

public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>The Api migrates at start-up unless a separate migration job owns that (set false there).</summary>
    public bool MigrateOnStartup { get; set; } = true;

    /// <summary>The schema Hangfire keeps its jobs in, beside ours.</summary>
    public string HangfireSchema { get; set; } = "hangfire";
}
