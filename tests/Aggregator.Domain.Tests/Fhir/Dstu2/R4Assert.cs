using System.Text.Json.Nodes;
using Aggregator.Domain.Fhir.Dstu2;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace Aggregator.Domain.Tests.Fhir.Dstu2;

/// <summary>Converts with <see cref="Dstu2ToR4"/> and requires R4 that Firely's validating parser accepts.</summary>
public static class R4Assert
{
    // Default settings validate: cardinality, required code bindings, primitive formats, unknown elements.
    private static readonly FhirJsonDeserializer Deserializer = new();

    public static JsonObject Converts(JsonObject dstu2Resource)
    {
        var conversion = Dstu2ToR4.Convert(dstu2Resource);
        Assert.True(conversion.Succeeded, conversion.Error);
        AcceptedByFirely(conversion.Resource!);
        return conversion.Resource!;
    }

    public static Resource AcceptedByFirely(JsonObject r4Resource)
    {
        if (ParseProblems(r4Resource, out var parsed) is { } problems)
        {
            Assert.Fail(problems);
        }

        return parsed!;
    }

    /// <summary>Why Firely rejects the resource, or null when it accepts it.</summary>
    public static string? ParseProblems(JsonObject r4Resource, out Resource? parsed)
    {
        var json = r4Resource.ToJsonString();
        try
        {
            parsed = Deserializer.Deserialize<Resource>(json);
            return null;
        }
        catch (DeserializationFailedException failure)
        {
            parsed = null;
            return $"Firely rejects the R4 JSON: {string.Join("; ", failure.Exceptions.Select(issue => issue.Message))}\n{json}";
        }
    }

    /// <summary>The string form of the value at a simple path such as <c>code.coding[0].code</c>.</summary>
    public static string? At(this JsonNode node, string path)
    {
        JsonNode? current = node;
        foreach (var step in path.Split('.'))
        {
            var name = step;
            var index = -1;
            if (step.EndsWith(']'))
            {
                var open = step.IndexOf('[');
                name = step[..open];
                index = int.Parse(step[(open + 1)..^1]);
            }

            current = name.Length > 0 ? current?[name] : current;
            if (index >= 0)
            {
                current = current is JsonArray array && index < array.Count ? array[index] : null;
            }
        }

        return current switch
        {
            null => null,
            JsonValue value when value.TryGetValue<string>(out var text) => text,
            _ => current.ToJsonString(),
        };
    }
}
