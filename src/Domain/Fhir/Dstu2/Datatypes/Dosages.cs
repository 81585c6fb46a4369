using System.Text.Json.Nodes;

namespace Aggregator.Domain.Fhir.Dstu2.Datatypes;

/// <summary>
/// DSTU2 dosage instructions (MedicationOrder, MedicationDispense, MedicationStatement) as the R4 Dosage type:
/// additionalInstructions becomes a repeating additionalInstruction, and dose[x] and rate[x] move into doseAndRate.
/// </summary>
internal static class Dosages
{
    /// <param name="source">A DSTU2 dosage instruction.</param>
    /// <param name="doseName">The DSTU2 name of the dose: <c>dose</c>, or <c>quantity</c> in MedicationStatement.</param>
    public static JsonObject Dosage(JsonObject source, string doseName)
    {
        var doseAndRate = new JsonObject()
            .ConvertOne(source, doseName + "Range", Quantities.Range, "doseRange")
            .ConvertOne(source, doseName + "Quantity", Quantities.Simple, "doseQuantity")
            .ConvertOne(source, "rateRatio", Quantities.Ratio)
            .ConvertOne(source, "rateRange", Quantities.Range);

        return ElementBase.FromBackbone(source)
            .CopyText(source, "text")
            .ConvertAll(source, "additionalInstructions", Codes.Concept, "additionalInstruction")
            .ConvertOne(source, "timing", Timings.Timing)
            .CopyFlag(source, "asNeededBoolean")
            .ConvertOne(source, "asNeededCodeableConcept", Codes.Concept)
            .ConvertOne(source, "siteCodeableConcept", Codes.Concept, "site")
            .ConvertOne(source, "route", Codes.Concept)
            .ConvertOne(source, "method", Codes.Concept)
            .Put("doseAndRate", doseAndRate.Count > 0 ? new JsonArray(doseAndRate) : null)
            .ConvertOne(source, "maxDosePerPeriod", Quantities.Ratio);
    }
}
