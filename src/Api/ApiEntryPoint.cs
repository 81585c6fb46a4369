namespace Aggregator.Api;

/// <summary>Names this assembly for hosts that start it in-process (tests' WebApplicationFactory).</summary>
public sealed class ApiEntryPoint
{
    private ApiEntryPoint()
    {
    }
}
