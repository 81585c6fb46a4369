namespace Aggregator.Worker;

/// <summary>Names this assembly for hosts that start it in-process (tests' WebApplicationFactory).</summary>
public sealed class WorkerEntryPoint
{
    private WorkerEntryPoint()
    {
    }
}
