using System.Text.Json.Nodes;
using Aggregator.Domain.Fhir.Dstu2.Datatypes;

namespace Aggregator.Domain.Fhir.Dstu2.Resources;

/// <summary>
/// Practitioner: the single name becomes a list; practitionerRole moved to its own resource (PractitionerRole) in
/// R3 and is not carried.
/// </summary>
internal sealed class PractitionerMapper : IResourceMapper
{
    private static readonly HashSet<string> Genders = ["male", "female", "other", "unknown"];

    public string Dstu2Type => "Practitioner";

    public string R4Type => "Practitioner";

    public void Map(JsonObject source, JsonObject target) =>
        target
            .ConvertAll(source, "identifier", Identifiers.Identifier)
            .CopyFlag(source, "active")
            .ConvertAll(source, "name", Demographics.HumanName)
            .ConvertAll(source, "telecom", Demographics.ContactPoint)
            .ConvertAll(source, "address", Demographics.Address)
            .PutText("gender", source.Text("gender") is { } gender && Genders.Contains(gender) ? gender : null)
            .CopyText(source, "birthDate")
            .ConvertAll(source, "photo", Documents.Attachment)
            .ConvertAll(source, "qualification", Qualification)
            .ConvertAll(source, "communication", Codes.Concept);

    private static JsonObject? Qualification(JsonObject source) =>
        source.Child("code") is not { } code
            ? null
            : ElementBase.FromBackbone(source)
                .ConvertAll(source, "identifier", Identifiers.Identifier)
                .Put("code", Codes.Concept(code))
                .ConvertOne(source, "period", Periods.Period)
                .ConvertOne(source, "issuer", References.Reference);
}
