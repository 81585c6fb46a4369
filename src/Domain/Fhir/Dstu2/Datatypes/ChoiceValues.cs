using System.Text.Json.Nodes;

namespace Aggregator.Domain.Fhir.Dstu2.Datatypes;

/// <summary>Converts the value of a choice element (<c>value[x]</c>, <c>onset[x]</c>…) by its type suffix.</summary>
internal static class ChoiceValues
{
    public static JsonNode? Convert(string typeSuffix, JsonNode value)
    {
        if (value is not JsonObject complex)
        {
            return Primitives.OfType(typeSuffix, value);
        }

        return typeSuffix switch
        {
            "Quantity" or "Age" or "Duration" or "Count" or "Distance" => Quantities.Quantity(complex),
            "SimpleQuantity" => Quantities.Simple(complex),
            "Money" => Quantities.Money(complex),
            "Range" => Quantities.Range(complex),
            "Ratio" => Quantities.Ratio(complex),
            "SampledData" => Quantities.SampledData(complex),
            "CodeableConcept" => Codes.Concept(complex),
            "Coding" => Codes.Coding(complex),
            "Reference" => References.Reference(complex),
            "Period" => Periods.Period(complex),
            "Identifier" => Identifiers.Identifier(complex),
            "HumanName" => Demographics.HumanName(complex),
            "Address" => Demographics.Address(complex),
            "ContactPoint" => Demographics.ContactPoint(complex),
            "Attachment" => Documents.Attachment(complex),
            "Annotation" => Documents.Annotation(complex),
            "Timing" => Timings.Timing(complex),
            _ => null,
        };
    }

    /// <summary>
    /// Copies <c>name[x]</c> when its type is one R4 allows there; <paramref name="renamedTypes"/> gives DSTU2
    /// types that R4 names differently at this element (e.g. onsetQuantity → onsetAge).
    /// </summary>
    public static JsonObject CopyChoice(
        this JsonObject target,
        JsonObject source,
        string name,
        IReadOnlyCollection<string> r4Types,
        IReadOnlyDictionary<string, string>? renamedTypes = null)
    {
        if (source.Choice(name) is not var (type, value))
        {
            return target;
        }

        var r4Type = renamedTypes is not null && renamedTypes.TryGetValue(type, out var renamed) ? renamed : type;
        return r4Types.Contains(r4Type)
            ? target.Put(name + r4Type, Convert(type, value)).CopyPrimitiveExtensions(source, name + type, name + r4Type)
            : target;
    }
}
