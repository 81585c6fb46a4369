using System.Net;
using System.Net.Sockets;

namespace Aggregator.Infrastructure.Networking;

/// <summary>Opens the TCP connection of an HttpClient's <c>ConnectCallback</c>, to the endpoint a policy chose.</summary>
internal static class Connect
{
    public static async ValueTask<Stream> ToAsync(EndPoint endpoint, CancellationToken cancellationToken)
    {
        // An IP endpoint gets a socket of its family; a DNS endpoint a dual-mode one, as SocketsHttpHandler itself makes.
        var socket = endpoint is IPEndPoint ip
            ? new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true }
            : new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The first address <paramref name="host"/> resolves to that <paramref name="allowed"/> accepts: the one to dial, so the check holds for the connection itself.</summary>
    public static async ValueTask<IPAddress?> FirstAllowedAddressAsync(string host, Func<IPAddress, bool> allowed, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        return addresses.FirstOrDefault(allowed);
    }
}
