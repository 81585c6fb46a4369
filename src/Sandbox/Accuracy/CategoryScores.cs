using System.Globalization;
using System.Text;
using Aggregator.Sandbox.Demo;

namespace Aggregator.Sandbox.Accuracy;

/// <summary>Where one source resource ended up: its merged item and that item's category.</summary>
public sealed record Placement(string ItemId, string Category);

/// <summary>
/// De-duplication scored per category of the merged record, and over all: which resources the truth says
/// state one fact against which ones share an item. A resource of the truth found in no item is counted
/// under its resource type as missing.
/// </summary>
public sealed record CategoryScores(IReadOnlyDictionary<string, DeduplicationScore> ByCategory, DeduplicationScore All)
{
    /// <param name="factOf">The fact each source resource states, by a key naming its connection and resource.</param>
    /// <param name="placements">The item each source resource is in, by the same keys.</param>
    public static CategoryScores Compute(IReadOnlyDictionary<string, string> factOf, IReadOnlyDictionary<string, Placement> placements)
    {
        ArgumentNullException.ThrowIfNull(factOf);
        ArgumentNullException.ThrowIfNull(placements);
        var itemOf = placements.ToDictionary(p => p.Key, p => p.Value.ItemId, StringComparer.Ordinal);
        var byCategory = factOf.GroupBy(f => placements.TryGetValue(f.Key, out var placed) ? placed.Category : "(not in the record)", StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(
                g => g.Key,
                g => DeduplicationScore.Compute(g.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal), itemOf),
                StringComparer.Ordinal);
        return new CategoryScores(byCategory, DeduplicationScore.Compute(factOf, itemOf));
    }

    /// <summary>A table, one line per category, then the total.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var (category, score) in ByCategory)
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"  {category,-24} {score}"));
        }

        text.Append(string.Create(CultureInfo.InvariantCulture, $"  {"all",-24} {All}"));
        return text.ToString();
    }
}
