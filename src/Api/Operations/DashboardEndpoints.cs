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
        IDashboardAuthorizationFilter filter = string.IsNullOrEmpty(options.DashboardPassword)
            ? new LocalRequestsOnlyAuthorizationFilter()
            : new OperatorPasswordFilter(options.DashboardPassword);
        endpoints.MapHangfireDashboard(Path, new DashboardOptions
        {
            Authorization = [filter],
            DashboardTitle = "Aggregator jobs",
            DisplayStorageConnectionString = false,
        });
        return endpoints;
    }

    /// <summary>HTTP Basic with the operator password; compared in constant time.</summary>
    private sealed class OperatorPasswordFilter(string password) : IDashboardAuthorizationFilter
    {
        private readonly byte[] _expected = Encoding.UTF8.GetBytes("operator:" + password);

        public bool Authorize(DashboardContext context)
        {
            var http = context.GetHttpContext();
            var header = http.Request.Headers.Authorization.ToString();
            if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
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
