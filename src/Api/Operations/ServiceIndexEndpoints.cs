namespace Aggregator.Api.Operations;

public static class ServiceIndexEndpoints
{
    /// <summary><c>GET /</c>: where things are, for a person who opens the Api's url.</summary>
    public static IEndpointRouteBuilder MapServiceIndex(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/", GetIndex).ExcludeFromDescription();
        return endpoints;
    }

    private static Ok<ServiceIndex> GetIndex() => TypedResults.Ok(new ServiceIndex(
        "Aggregator",
        Docs: "/docs",
        OpenApi: "/openapi/v1.json",
        Health: "/health/ready",
        Jobs: DashboardEndpoints.Path));

    public sealed record ServiceIndex(string Service, string Docs, string OpenApi, string Health, string Jobs);
}
