using System.Text.Json;

namespace Aggregator.Sandbox.Accuracy;

/// <summary>Reads a merged record against a second provider's truth: which fact each source resource states, and where it ended up.</summary>
public static class SecondProviderScoring
{
    /// <param name="firstIdPrefix">The id prefix of the persona serving the original bundles (its ids are the files' ids behind it).</param>
    /// <param name="items">The patient's merged items as the API lists them, retracted ones included.</param>
    public static (Dictionary<string, string> FactOf, Dictionary<string, Placement> Placements) Collect(
        PatientTruth patient, Guid firstConnection, string firstIdPrefix, Guid secondConnection, IEnumerable<JsonElement> items)
    {
        ArgumentNullException.ThrowIfNull(patient);
        ArgumentNullException.ThrowIfNull(items);
        var factOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (resource, fact) in patient.Original)
        {
            var (type, id) = Split(resource);
            factOf[Key(firstConnection, type, firstIdPrefix + id)] = fact;
        }

        foreach (var (resource, fact) in patient.Second)
        {
            var (type, id) = Split(resource);
            factOf[Key(secondConnection, type, id)] = fact;
        }

        var placements = new Dictionary<string, Placement>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            var placement = new Placement(item.GetProperty("id").GetString()!, item.GetProperty("category").GetString()!);
            foreach (var source in item.GetProperty("sources").EnumerateArray())
            {
                var key = Key(source.GetProperty("connectionId").GetGuid(), source.GetProperty("resourceType").GetString()!, source.GetProperty("resourceId").GetString()!);
                if (factOf.ContainsKey(key))
                {
                    placements[key] = placement;
                }
            }
        }

        return (factOf, placements);
    }

    private static (string Type, string Id) Split(string resource) => (resource[..resource.IndexOf('/', StringComparison.Ordinal)], resource[(resource.IndexOf('/', StringComparison.Ordinal) + 1)..]);

    private static string Key(Guid connection, string type, string id) => $"{connection}|{type}/{id}";
}
