using System.Security.Cryptography;
using System.Text;
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
        // Operators sign in, in every environment: no local-requests shortcut (behind a proxy or a port forward every
        // request looks local). Without a password configured the dashboard is closed to everyone.
        endpoints.MapHangfireDashboard(Path, new DashboardOptions
        {
            Authorization = [new OperatorPasswordFilter(options.DashboardPassword)],
            DashboardTitle = "Aggregator jobs",
            DisplayStorageConnectionString = false,
        });
        return endpoints;
    }

    /// <summary>HTTP Basic with the operator password (<c>Operator:DashboardPassword</c>); compared in constant time.</summary>
    private sealed class OperatorPasswordFilter(string? password) : IDashboardAuthorizationFilter
    {
        private readonly byte[]? _expected = string.IsNullOrEmpty(password) ? null : Encoding.UTF8.GetBytes("operator:" + password);

        public bool Authorize(DashboardContext context)
        {
            var http = context.GetHttpContext();
            var header = http.Request.Headers.Authorization.ToString();
            if (_expected is not null && header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
            {
                try
                {
                    var given = Convert.FromBase64String(header["Basic ".Length..].Trim());
                    if (CryptographicOperations.FixedTimeEquals(given, _expected))
                    {
                        return true;
                    }
                }
                catch (FormatException)
                {
                    // Falls through to the challenge.
                }
            }

            http.Response.Headers.WWWAuthenticate = "Basic realm=\"Aggregator operators\"";
            return false;
        }
    }
}
