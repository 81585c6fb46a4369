namespace Aggregator.Sandbox.Health;

public static class HealthEndpoints
{
    /// <summary><c>/health/live</c> answers while the process runs; <c>/health/ready</c> once loading has finished.</summary>
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new() { Predicate = _ => false });
        app.MapHealthChecks("/health/ready");
        return app;
    }
}
