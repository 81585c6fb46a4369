using Aggregator.Infrastructure.Hosting;
using Hangfire;
using Hangfire.Dashboard;
using Microsoft.Extensions.Options;

namespace Aggregator.Api.Operations;

public static class DashboardEndpoints
{
    public const string Path = "/hangfire";

    public static IEndpointRouteBuilder MapOperatorDashboard(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<OperatorOptions>>().Value;
        // Operators sign in, in every environment; without a password configured the dashboard is closed to everyone.
        endpoints.MapHangfireDashboard(Path, new DashboardOptions
        {
            Authorization = [new OperatorFilter(options)],
            DashboardTitle = "Aggregator jobs",
            DisplayStorageConnectionString = false,
        });
        return endpoints;
    }

    private sealed class OperatorFilter(OperatorOptions options) : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context) => options.Admits(context.GetHttpContext());
    }
}
