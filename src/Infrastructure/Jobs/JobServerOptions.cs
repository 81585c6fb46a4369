namespace Aggregator.Infrastructure.Jobs;

public sealed class JobServerOptions
{
    public const string Section = "Worker";

    /// <summary>Run the Hangfire server inside the Api process (one process is then a whole system).</summary>
    public bool InProcess { get; set; }

    /// <summary>Parallel jobs per server; sized for a 2-core machine by default.</summary>
    public int WorkerCount { get; set; } = 4;

    /// <summary>How often the server looks for new jobs; short in tests.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a job fetched by a server that stopped answering stays invisible before another server takes it. A
    /// running job's server keeps sliding this forward (every fifth of it), so a long sync is never taken while its
    /// server lives; a killed Worker's jobs run again elsewhere this long after its last keep-alive.
    /// </summary>
    public TimeSpan InvisibilityTimeout { get; set; } = TimeSpan.FromMinutes(5);
}
