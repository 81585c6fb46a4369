using System.Text.Json.Nodes;
using Aggregator.Domain.Fhir.Dstu2.Datatypes;

namespace Aggregator.Domain.Fhir.Dstu2.Resources;

/// <summary>
/// Patient: careProvider → generalPractitioner, HumanName.family joins into one string, link type
/// <c>replace</c> → <c>replaced-by</c>, and animal (dropped from the resource in R3) moves to the patient-animal extension.
/// </summary>
internal sealed class PatientMapper : IResourceMapper
{
    private const string AnimalExtension = "http://hl7.org/fhir/StructureDefinition/patient-animal";
    private static readonly HashSet<string> Genders = ["male", "female", "other", "unknown"];
    private static readonly string[] AnimalParts = ["species", "breed", "genderStatus"];

    public string Dstu2Type => "Patient";

    public string R4Type => "Patient";

    public void Map(JsonObject source, JsonObject target) =>
        target
            .Append("extension", source.Child("animal") is { } animal ? Animal(animal) : null)
            .ConvertAll(source, "identifier", Identifiers.Identifier)
            .CopyFlag(source, "active")
            .ConvertAll(source, "name", Demographics.HumanName)
            .ConvertAll(source, "telecom", Demographics.ContactPoint)
            .PutText("gender", Gender(source))
            .CopyText(source, "birthDate")
            .CopyChoice(source, "deceased", ["Boolean", "DateTime"])
            .ConvertAll(source, "address", Demographics.Address)
            .ConvertOne(source, "maritalStatus", Codes.Concept)
            .CopyChoice(source, "multipleBirth", ["Boolean", "Integer"])
            .ConvertAll(source, "photo", Documents.Attachment)
            .ConvertAll(source, "contact", Contact)
            .ConvertAll(source, "communication", Communication)
            .ConvertAll(source, "careProvider", References.Reference, "generalPractitioner")
            .ConvertOne(source, "managingOrganization", References.Reference)
            .ConvertAll(source, "link", Link);

    private static string? Gender(JsonObject source) =>
        source.Text("gender") is { } gender && Genders.Contains(gender) ? gender : null;

    private static JsonObject Contact(JsonObject source) =>
        ElementBase.FromBackbone(source)
            .ConvertAll(source, "relationship", Codes.Concept)
            .ConvertOne(source, "name", Demographics.HumanName)
            .ConvertAll(source, "telecom", Demographics.ContactPoint)
            .ConvertOne(source, "address", Demographics.Address)
            .PutText("gender", Gender(source))
            .ConvertOne(source, "organization", References.Reference)
            .ConvertOne(source, "period", Periods.Period);

    private static JsonObject? Communication(JsonObject source) =>
        source.Child("language") is not { } language
            ? null
            : ElementBase.FromBackbone(source)
                .Put("language", Codes.Concept(language))
                .CopyFlag(source, "preferred");

    private static JsonObject? Link(JsonObject source)
    {
        var type = source.Text("type") switch
        {
            "replace" => "replaced-by",
            "refer" => "refer",
            "seealso" => "seealso",
            _ => null,
        };
        return source.Child("other") is not { } other || type is null
            ? null
            : ElementBase.FromBackbone(source)
                .Put("other", References.Reference(other))
                .PutText("type", type);
    }

    private static JsonObject? Animal(JsonObject animal)
    {
        var extension = new JsonObject { ["url"] = AnimalExtension }
            .PutAll("extension", AnimalParts.Select(part =>
                animal.Child(part) is { } concept
                    ? new JsonObject { ["url"] = part, ["valueCodeableConcept"] = Codes.Concept(concept) }
                    : null));
        return extension.ContainsKey("extension") ? extension : null;
    }
}
