using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aggregator.Sandbox.Faults;

/// <summary>
/// What the <c>odd-json</c> fault adds to a search page: valid JSON in shapes no FHIR server should send, of the kinds
/// real ones sometimes do. A client must set aside what it cannot use and keep the rest of the page.
/// </summary>
public static class OddJson
{
    /// <summary>A link whose relation is a number, and one that is not an object at all.</summary>
    public static void WriteLinks(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteNumber("relation", 7);
        writer.WriteNumber("url", 7);
        writer.WriteEndObject();
        writer.WriteStringValue("next");
    }

    /// <summary>
    /// An entry that is a string, an entry whose resource is a list and whose search mode is a number, and a copy of
    /// <paramref name="firstResource"/> (id suffixed <c>-odd</c>) whose common elements have the wrong JSON types.
    /// </summary>
    public static void WriteEntries(Utf8JsonWriter writer, byte[] firstResource)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue("not an entry");
        writer.WriteStartObject();
        writer.WriteStartArray("resource");
        writer.WriteNumberValue(1);
        writer.WriteEndArray();
        writer.WriteStartObject("search");
        writer.WriteNumber("mode", 1);
        writer.WriteEndObject();
        writer.WriteEndObject();

        writer.WriteStartObject();
        writer.WritePropertyName("resource");
        writer.WriteRawValue(Twisted(firstResource), skipInputValidation: true);
        writer.WriteEndObject();
    }

    private static byte[] Twisted(byte[] json)
    {
        var resource = JsonNode.Parse(json)!.AsObject();
        resource["id"] = resource["id"]!.GetValue<string>() + "-odd";
        // Shapes the structural check lets through (objects where objects belong), with the wrong types inside.
        resource["code"] = new JsonObject { ["coding"] = new JsonObject { ["system"] = 5, ["code"] = new JsonArray("x") }, ["text"] = 7 };
        resource["category"] = "vital-signs";
        resource["valueQuantity"] = new JsonObject { ["value"] = "12.5", ["unit"] = 3, ["system"] = new JsonArray() };
        resource["effectivePeriod"] = new JsonObject { ["start"] = 20240101, ["end"] = "not a date" };
        resource["note"] = new JsonArray(null, 3, "text");
        resource["performer"] = new JsonArray(new JsonObject { ["reference"] = 42 }, "Practitioner/1");
        resource["content"] = new JsonObject { ["attachment"] = new JsonObject { ["url"] = 12, ["data"] = "%%% not base64 %%%" } };
        resource["presentedForm"] = new JsonArray(new JsonObject { ["contentType"] = "text/html", ["data"] = 3 });
        resource["valueInteger"] = JsonNode.Parse("1e400");
        resource["dosageInstruction"] = new JsonObject { ["text"] = new JsonObject() };
        resource["period"] = "2020";
        resource["onsetDateTime"] = "yesterday";
        resource["recordedDate"] = "2020-13-45";
        return JsonSerializer.SerializeToUtf8Bytes(resource);
    }
}
