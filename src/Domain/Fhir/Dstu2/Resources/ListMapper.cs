using System.Text.Json.Nodes;
using Aggregator.Domain.Fhir.Dstu2.Datatypes;

namespace Aggregator.Domain.Fhir.Dstu2.Resources;

/// <summary>
/// List (e.g. "no known allergies"): status becomes required in R4 (current when absent), the note string
/// becomes an Annotation, entries keep flag, deleted, date and item; mode and emptyReason are unchanged.
/// </summary>
internal sealed class ListMapper : IResourceMapper
{
    public string Dstu2Type => "List";

    public string R4Type => "List";

    public void Map(JsonObject source, JsonObject target) =>
        target
            .ConvertAll(source, "identifier", Identifiers.Identifier)
            .PutText("status", source.Text("status") ?? "current")
            .PutText("mode", source.Text("mode") ?? "snapshot")
            .CopyText(source, "title")
            .ConvertOne(source, "code", Codes.Concept)
            .ConvertOne(source, "subject", References.Reference)
            .ConvertOne(source, "encounter", References.Reference)
            .CopyText(source, "date")
            .ConvertOne(source, "source", References.Reference)
            .ConvertOne(source, "orderedBy", Codes.Concept)
            .Append("note", Documents.Note(source.Text("note")))
            .PutAll("entry", source.Children("entry").Select(Entry))
            .ConvertOne(source, "emptyReason", Codes.Concept);

    private static JsonObject? Entry(JsonObject entry)
    {
        var item = entry.Child("item");
        if (item is null)
        {
            return null;
        }

        return new JsonObject()
            .ConvertOne(entry, "flag", Codes.Concept)
            .CopyFlag(entry, "deleted")
            .CopyText(entry, "date")
            .Put("item", References.Reference(item));
    }
}
