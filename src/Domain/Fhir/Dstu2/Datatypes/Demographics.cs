using System.Text.Json.Nodes;

namespace Aggregator.Domain.Fhir.Dstu2.Datatypes;

/// <summary>HumanName, Address and ContactPoint.</summary>
internal static class Demographics
{
    private static readonly HashSet<string> NameUses = ["usual", "official", "temp", "nickname", "anonymous", "old", "maiden"];
    private static readonly HashSet<string> AddressUses = ["home", "work", "temp", "old", "billing"];
    private static readonly HashSet<string> AddressTypes = ["postal", "physical", "both"];
    private static readonly HashSet<string> ContactSystems = ["phone", "fax", "email", "pager", "url", "sms", "other"];
    private static readonly HashSet<string> ContactUses = ["home", "work", "temp", "old", "mobile"];

    /// <summary>DSTU2 allowed several family names; R4 has one string, so the parts are joined in order.</summary>
    public static JsonObject HumanName(JsonObject source)
    {
        var family = string.Join(' ', source.Texts("family"));
        return ElementBase.From(source)
            .PutText("use", Known(source.Text("use"), NameUses))
            .CopyText(source, "text")
            .PutText("family", family.Length > 0 ? family : null)
            .CopyTexts(source, "given")
            .CopyTexts(source, "prefix")
            .CopyTexts(source, "suffix")
            .ConvertOne(source, "period", Periods.Period);
    }

    public static JsonObject Address(JsonObject source) =>
        ElementBase.From(source)
            .PutText("use", Known(source.Text("use"), AddressUses))
            .PutText("type", Known(source.Text("type"), AddressTypes))
            .CopyText(source, "text")
            .CopyTexts(source, "line")
            .CopyText(source, "city")
            .CopyText(source, "district")
            .CopyText(source, "state")
            .CopyText(source, "postalCode")
            .CopyText(source, "country")
            .ConvertOne(source, "period", Periods.Period);

    public static JsonObject ContactPoint(JsonObject source) =>
        ElementBase.From(source)
            .PutText("system", Known(source.Text("system"), ContactSystems))
            .CopyText(source, "value")
            .PutText("use", Known(source.Text("use"), ContactUses))
            .Put("rank", Dstu2Reading.AsWholeNumber(source["rank"]) is > 0 and <= int.MaxValue and var rank ? JsonValue.Create((int)rank) : null)
            .ConvertOne(source, "period", Periods.Period);

    private static string? Known(string? code, HashSet<string> codes) => code is not null && codes.Contains(code) ? code : null;
}
