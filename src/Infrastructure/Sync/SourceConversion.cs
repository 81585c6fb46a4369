using System.Security.Cryptography;
using System.Text;
using Aggregator.Domain.Providers;

namespace Aggregator.Infrastructure.Sync;

/// <summary>
/// Turns a served resource into what we store: R4 as received; DSTU2 kept as received beside its R4
/// conversion; a malformed one kept aside (original only) with its error. The content hash is of
/// the bytes as served, so an unchanged resource is recognised whatever the conversion does.
/// </summary>
public static class SourceConversion
{
    public static IncomingResource Prepare(PageEntry entry, string countedType, FhirVersion version)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(entry.RawJson));
        if (entry.Problem is not null || entry.ResourceType is null || entry.ResourceId is null)
        {
            // Identified by its content, so that serving it again does not store it twice.
            var id = entry.ResourceId ?? "unidentified-" + Convert.ToHexStringLower(hash)[..16];
            return new IncomingResource(entry.ResourceType ?? countedType, id, null, entry.RawJson, null, null, hash, entry.Problem ?? "unidentifiable resource");
        }

        return version == FhirVersion.R4
            ? new IncomingResource(entry.ResourceType, entry.ResourceId, entry.RawJson, null, entry.VersionId, entry.LastUpdated, hash, null)
            : new IncomingResource(entry.ResourceType, entry.ResourceId, null, entry.RawJson, entry.VersionId, entry.LastUpdated, hash, null);
    }
}
