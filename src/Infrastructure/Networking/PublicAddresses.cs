using System.Net;

namespace Aggregator.Infrastructure.Networking;

/// <summary>
/// Which addresses are on the public internet: where we let a tenant's webhook or a provider's discovered endpoint
/// take a request, so that neither can point us at loopback, the private network or cloud metadata.
/// </summary>
public static class PublicAddresses
{
    /// <summary>
    /// The IANA special-purpose ranges (RFC 6890 and its updates) that are not globally reachable: loopback, private,
    /// shared, link-local, documentation, benchmarking, IETF protocol assignments, translation and 6to4 prefixes (which
    /// embed other addresses), reserved, multicast and unspecified.
    /// </summary>
    private static readonly IPNetwork[] SpecialPurpose =
    [
        .. new[]
        {
            "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
            "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24", "192.88.99.0/24", "192.168.0.0/16", "192.175.48.0/24",
            "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
            "::/128", "::1/128", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32",
            "2002::/16", "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
        }.Select(IPNetwork.Parse),
    ];

    /// <summary>IPv6 global unicast: the only IPv6 space handed out for the internet; anything outside it is not public.</summary>
    private static readonly IPNetwork GlobalUnicast = IPNetwork.Parse("2000::/3");

    /// <summary>Whether <paramref name="address"/> is globally reachable: in none of the special-purpose ranges (IPv6: and inside global unicast).</summary>
    public static bool IsPublic(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !GlobalUnicast.Contains(address))
        {
            return false;
        }

        foreach (var network in SpecialPurpose)
        {
            if (network.Contains(address))
            {
                return false;
            }
        }

        return true;
    }
}
