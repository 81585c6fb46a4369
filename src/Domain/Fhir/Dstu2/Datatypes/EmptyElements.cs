using System.Text.Json.Nodes;

namespace Aggregator.Domain.Fhir.Dstu2.Datatypes;

/// <summary>FHIR forbids empty objects and arrays; converters may leave them when every part was unreadable.</summary>
internal static class EmptyElements
{
    public static void Prune(JsonObject element)
    {
        foreach (var name in element.Select(property => property.Key).ToArray())
        {
            if (IsEmpty(element[name]))
            {
                element.Remove(name);
            }
        }
    }

    private static bool IsEmpty(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return true;
            case JsonObject element:
                Prune(element);
                return element.Count == 0;
            case JsonArray array:
                for (var index = array.Count - 1; index >= 0; index--)
                {
                    if (IsEmpty(array[index]))
                    {
                        array.RemoveAt(index);
                    }
                }

                return array.Count == 0;
            default:
                return false;
        }
    }
}
