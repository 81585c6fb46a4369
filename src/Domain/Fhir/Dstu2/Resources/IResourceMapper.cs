using System.Text.Json.Nodes;

namespace Aggregator.Domain.Fhir.Dstu2.Resources;

/// <summary>Maps the elements of one DSTU2 resource type onto its R4 counterpart.</summary>
internal interface IResourceMapper
{
    string Dstu2Type { get; }

    string R4Type { get; }

    /// <summary>
    /// Writes the type's own elements into <paramref name="target"/>; the common ones (id, meta, text, contained,
    /// extensions, identifiers are per type) are already there.
    /// </summary>
    void Map(JsonObject source, JsonObject target);
}
