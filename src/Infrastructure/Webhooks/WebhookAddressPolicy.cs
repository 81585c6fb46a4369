using System.Net;
using System.Net.Sockets;

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
        var addresses = await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = addresses.FirstOrDefault(a => namedLoopback ? IPAddress.IsLoopback(a) : IsPublic(a))
            ?? throw new HttpRequestException(HttpRequestError.ConnectionError, $"The webhook host {host} resolves to no public address.");
        var socket = new Socket(allowed.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(allowed, context.DnsEndPoint.Port), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Not loopback, private (RFC 1918, fc00::/7), link-local, shared (100.64/10), unspecified or multicast.</summary>
    public static bool IsPublic(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            return false;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return !(address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || (address.GetAddressBytes()[0] & 0xFE) == 0xFC);
        }

        var b = address.GetAddressBytes();
        return !(b[0] == 10 || b[0] == 0 || (b[0] == 172 && b[1] >= 16 && b[1] <= 31) || (b[0] == 192 && b[1] == 168)
            || (b[0] == 169 && b[1] == 254) || (b[0] == 100 && b[1] >= 64 && b[1] <= 127) || b[0] >= 224);
    }
}
