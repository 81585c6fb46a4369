using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Aggregator.Infrastructure.Hosting;

/// <summary>How operators sign in to what only they see: the jobs dashboard (Api) and <c>/metrics</c> (Api and Worker).</summary>
public sealed class OperatorOptions
{
    public const string Section = "Operator";
    public const string UserName = "operator";

    /// <summary>
    /// HTTP Basic password of the user <c>operator</c>. Unset: the dashboard and <c>/metrics</c> are closed to everyone
    /// (no local-requests shortcut: behind a proxy or a port forward every request looks local).
    /// </summary>
    public string? DashboardPassword { get; set; }

    /// <summary>Whether the request carries the operator's credentials (compared in constant time); if not, sets the challenge.</summary>
    public bool Admits(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var header = http.Request.Headers.Authorization.ToString();
        if (!string.IsNullOrEmpty(DashboardPassword) && header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var given = Convert.FromBase64String(header["Basic ".Length..].Trim());
                if (CryptographicOperations.FixedTimeEquals(given, Encoding.UTF8.GetBytes(UserName + ":" + DashboardPassword)))
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
