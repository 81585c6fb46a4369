using System.Text.Json.Nodes;

namespace Aggregator.Domain.Tests.Fhir.Dstu2.Mappers;

/// <summary>A DSTU2 compound medication (the sample patients have no Medication).</summary>
public sealed class MedicationMapperTests
{
    [Fact]
    public void Compound_medication_ingredients_keep_their_items_and_strengths()
    {
        var r4 = R4Assert.Converts(Dstu2Samples.Example("medication-compound.json"));

        Assert.Equal("ceftriaxone 2 g in Sodium Chloride 0.9% 100 mL", r4.At("code.text"));
        Assert.Equal("#cmpd-90217-a", r4.At("ingredient[0].itemReference.reference"));
        Assert.Equal("ceftriaxone", r4.At("ingredient[0].itemReference.display"));
        Assert.Equal("2.0", r4.At("ingredient[0].strength.numerator.value"));
        Assert.Equal("g", r4.At("ingredient[0].strength.numerator.code"));
        Assert.Equal("100.0", r4.At("ingredient[0].strength.denominator.value"));
        Assert.Equal("mL", r4.At("ingredient[0].strength.denominator.code"));
        Assert.Equal("Sodium Chloride 0.9%", r4.At("ingredient[1].itemReference.display"));
        Assert.Equal("2193", r4.At("contained[0].code.coding[0].code"));
        Assert.Null(r4["product"]);
    }

    [Fact]
    public void Product_form_and_batch_move_up_to_the_medication()
    {
        var medication = Dstu2Samples.Example("medication-compound.json");
        medication["product"]!["form"] = new JsonObject { ["text"] = "Injectable solution" };
        medication["product"]!["batch"] = new JsonArray(new JsonObject { ["lotNumber"] = "A123", ["expirationDate"] = "2030-01-01" });
        medication["isBrand"] = false;

        var r4 = R4Assert.Converts(medication);

        Assert.Equal("Injectable solution", r4.At("form.text"));
        Assert.Equal("A123", r4.At("batch.lotNumber"));
        Assert.Null(r4["isBrand"]);
    }
}
