using System.Text.Json.Nodes;

namespace Aggregator.Domain.Fhir.Dstu2.Datatypes;

/// <summary>
/// Fills an element R4 requires but the DSTU2 resource did not state, the way FHIR prescribes: an element that only
/// carries the data-absent-reason extension (<c>unknown</c>), never an invented value.
/// </summary>
internal static class DataAbsent
{
    private const string ExtensionUrl = "http://hl7.org/fhir/StructureDefinition/data-absent-reason";

    public static JsonObject Unknown() =>
        new() { ["extension"] = new JsonArray(new JsonObject { ["url"] = ExtensionUrl, ["valueCode"] = "unknown" }) };

    /// <summary>
    /// For a required complex element or choice: when none of <paramref name="names"/> is present, the first is put
    /// as an unknown element.
    /// </summary>
    public static JsonObject RequireElement(this JsonObject target, params string[] names)
    {
        if (!names.Any(target.ContainsKey))
        {
            target[names[0]] = Unknown();
        }

        return target;
    }

    /// <summary>Puts a list of one unknown element when the required list <paramref name="name"/> is still missing.</summary>
    public static JsonObject RequireList(this JsonObject target, string name)
    {
        if (!target.ContainsKey(name))
        {
            target[name] = new JsonArray(Unknown());
        }

        return target;
    }

    /// <summary>
    /// For a required primitive or choice: when none of <paramref name="names"/> is present, the first is stated
    /// absent through its <c>_name</c> companion.
    /// </summary>
    public static JsonObject RequirePrimitive(this JsonObject target, params string[] names)
    {
        if (!names.Any(name => target.ContainsKey(name) || target.ContainsKey("_" + name)))
        {
            target["_" + names[0]] = Unknown();
        }

        return target;
    }
}
