using System.Text.Json.Nodes;
using Aggregator.Domain.Fhir.Dstu2.Datatypes;

namespace Aggregator.Domain.Fhir.Dstu2.Resources;

/// <summary>
/// Medication: product.form → form, product.ingredient (item, amount) → ingredient (itemReference, strength),
/// the first product.batch → batch. isBrand and package have no R4 counterpart.
/// </summary>
internal sealed class MedicationMapper : IResourceMapper
{
    public string Dstu2Type => "Medication";

    public string R4Type => "Medication";

    public void Map(JsonObject source, JsonObject target)
    {
        var product = source.Child("product") ?? [];
        target
            .ConvertOne(source, "code", Codes.Concept)
            .ConvertOne(source, "manufacturer", References.Reference)
            .ConvertOne(product, "form", Codes.Concept)
            .ConvertAll(product, "ingredient", Ingredient)
            .Put("batch", product.Children("batch").Select(Batch).FirstOrDefault());
    }

    private static JsonObject? Ingredient(JsonObject source) =>
        source.Child("item") is not { } item
            ? null
            : ElementBase.FromBackbone(source)
                .Put("itemReference", References.Reference(item))
                .ConvertOne(source, "amount", Quantities.Ratio, "strength");

    private static JsonObject Batch(JsonObject source) =>
        ElementBase.FromBackbone(source)
            .CopyText(source, "lotNumber")
            .CopyText(source, "expirationDate");
}
