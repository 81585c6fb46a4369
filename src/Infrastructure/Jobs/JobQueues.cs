namespace Aggregator.Infrastructure.Jobs;

/// <summary>Hangfire queues, in the order a server takes them.</summary>
public static class JobQueues
{
    public const string Default = "default";
    public const string Sync = "sync";
    public const string Maintenance = "maintenance";

    public static readonly string[] All = [Default, Sync, Maintenance];
}
