using System.Net;
using Aggregator.Infrastructure.Networking;

namespace Aggregator.Infrastructure.Providers;

/// <summary>
/// Where provider OAuth requests may connect. An endpoint the directory configures is the operator's choice and is
/// dialled as named. An endpoint only a discovery document names was checked to be public when it was discovered; the
/// request to it carries <see cref="PublicOnly"/>, and the connection is made to a public address the host resolves to
/// at that moment, so a name that later resolves into the private network (DNS rebinding) reaches nothing. (Connections
/// are pooled per origin: an origin the directory configures for one provider is dialled as configured for all.)
/// </summary>
public static class ProviderAddressPolicy
{
    public static readonly HttpRequestOptionsKey<bool> PublicOnly = new("aggregator.provider.public-only");

    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var endpoint = context.DnsEndPoint;
        if (!context.InitialRequestMessage.Options.TryGetValue(PublicOnly, out var publicOnly) || !publicOnly)
        {
            return await Connect.ToAsync(endpoint, cancellationToken);
        }

        var address = await Connect.FirstAllowedAddressAsync(endpoint.Host, PublicAddresses.IsPublic, cancellationToken)
            ?? throw new HttpRequestException(HttpRequestError.ConnectionError, "A provider endpoint learned from discovery resolves to no public address.");
        return await Connect.ToAsync(new IPEndPoint(address, endpoint.Port), cancellationToken);
    }
}
