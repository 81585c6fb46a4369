using System.Text.Json.Nodes;
using Aggregator.Domain.Fhir.Dstu2.Datatypes;

namespace Aggregator.Domain.Fhir.Dstu2.Resources;

/// <summary>Organization: type becomes a list; the rest is unchanged.</summary>
internal sealed class OrganizationMapper : IResourceMapper
{
    public string Dstu2Type => "Organization";

    public string R4Type => "Organization";

    public void Map(JsonObject source, JsonObject target) =>
        target
            .ConvertAll(source, "identifier", Identifiers.Identifier)
            .CopyFlag(source, "active")
            .ConvertAll(source, "type", Codes.Concept)
            .CopyText(source, "name")
            .ConvertAll(source, "telecom", Demographics.ContactPoint)
            .ConvertAll(source, "address", Demographics.Address)
            .ConvertOne(source, "partOf", References.Reference)
            .ConvertAll(source, "contact", Contact);

    private static JsonObject Contact(JsonObject source) =>
        ElementBase.FromBackbone(source)
            .ConvertOne(source, "purpose", Codes.Concept)
            .ConvertOne(source, "name", Demographics.HumanName)
            .ConvertAll(source, "telecom", Demographics.ContactPoint)
            .ConvertOne(source, "address", Demographics.Address);
}
