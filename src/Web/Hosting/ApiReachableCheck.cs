using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aggregator.Web.Hosting;

/// <summary>Ready when the Api answers its own readiness check: the pages can do nothing without it.</summary>
public sealed class ApiReachableCheck(IHttpClientFactory http) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var response = await http.CreateClient(ApiClient.AggregatorApi.HttpClientName).GetAsync(new Uri("health/ready", UriKind.Relative), cancellationToken);
            return response.IsSuccessStatusCode ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy($"The Api answered {(int)response.StatusCode}.");
        }
        catch (HttpRequestException)
        {
            return HealthCheckResult.Unhealthy("The Api could not be reached.");
        }
    }
}
