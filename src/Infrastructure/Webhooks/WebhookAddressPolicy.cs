using System.Net;
using Aggregator.Infrastructure.Networking;

namespace Aggregator.Infrastructure.Webhooks;

/// <summary>
/// Where webhook requests may connect: public addresses only, checked on the address actually
/// dialled (after DNS), so a name that resolves into the private network is refused too. Loopback
/// is allowed only when the url names it (127.0.0.1, ::1, localhost), as an operator does for local use.
/// </summary>
public static class WebhookAddressPolicy
{
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var host = context.DnsEndPoint.Host;
        var namedLoopback = host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var literal) && IPAddress.IsLoopback(literal));
        var allowed = await Connect.FirstAllowedAddressAsync(host, a => namedLoopback ? IPAddress.IsLoopback(a) : PublicAddresses.IsPublic(a), cancellationToken)
            ?? throw new HttpRequestException(HttpRequestError.ConnectionError, $"The webhook host {host} resolves to no public address.");
        return await Connect.ToAsync(new IPEndPoint(allowed, context.DnsEndPoint.Port), cancellationToken);
    }
}
