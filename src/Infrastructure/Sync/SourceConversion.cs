using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Aggregator.Domain.Fhir.Dstu2;
using Aggregator.Domain.Providers;

namespace Aggregator.Infrastructure.Sync;

/// <summary>
/// Turns a served resource into what we store: R4 as received; DSTU2 kept as received beside its R4
/// conversion (a DSTU2 type without an R4 mapping is kept as received only); a malformed one kept
/// aside (original only) with its error. The content hash is of the bytes as served, so an
/// unchanged resource is recognised whatever the conversion does.
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
            return new IncomingResource(entry.ResourceType ?? countedType, id, null, entry.RawJson, null, null, hash, entry.Problem ?? "unidentifiable resource", SetAside: true);
        }

        if (version == FhirVersion.R4)
        {
            return new IncomingResource(entry.ResourceType, entry.ResourceId, entry.RawJson, null, entry.VersionId, entry.LastUpdated, hash, null, SetAside: false);
        }

        var conversion = Dstu2ToR4.Convert(JsonNode.Parse(entry.RawJson)!.AsObject());
        return conversion.Succeeded
            ? new IncomingResource(entry.ResourceType, entry.ResourceId, conversion.Resource!.ToJsonString(), entry.RawJson, entry.VersionId, entry.LastUpdated, hash, null, SetAside: false)
            : new IncomingResource(entry.ResourceType, entry.ResourceId, null, entry.RawJson, entry.VersionId, entry.LastUpdated, hash, conversion.Error,
                SetAside: Dstu2ToR4.IsMapped(entry.ResourceType));
    }
}
