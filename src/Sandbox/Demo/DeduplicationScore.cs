using System.Globalization;

namespace Aggregator.Sandbox.Demo;

/// <summary>
/// Pairwise precision and recall of a de-duplication against the generator's ground truth. A pair
/// of source resources is a true pair when they state the same fact and share a merged item, a
/// false pair when they share an item but are different facts, and a missed pair when they are
/// one fact split over items. Resources of the truth that are in no item are listed as missing.
/// Counted by group sizes, so linear in the number of resources.
/// </summary>
public sealed record DeduplicationScore(long TruePairs, long FalsePairs, long MissedPairs, int Resources, IReadOnlyList<string> Missing)
{
    public double Precision => TruePairs + FalsePairs == 0 ? 1.0 : (double)TruePairs / (TruePairs + FalsePairs);

    public double Recall => TruePairs + MissedPairs == 0 ? 1.0 : (double)TruePairs / (TruePairs + MissedPairs);

    /// <param name="factOf">The fact each source resource states (the ground truth), keyed by any stable resource key.</param>
    /// <param name="itemOf">The merged item each source resource ended up in, by the same keys.</param>
    public static DeduplicationScore Compute(IReadOnlyDictionary<string, string> factOf, IReadOnlyDictionary<string, string> itemOf)
    {
        ArgumentNullException.ThrowIfNull(factOf);
        ArgumentNullException.ThrowIfNull(itemOf);
        var missing = factOf.Keys.Where(k => !itemOf.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var judged = factOf.Where(p => itemOf.ContainsKey(p.Key)).Select(p => (Fact: p.Value, Item: itemOf[p.Key])).ToList();
        var both = Pairs(judged.GroupBy(j => j));
        var sameItem = Pairs(judged.GroupBy(j => j.Item));
        var sameFact = Pairs(judged.GroupBy(j => j.Fact));
        return new DeduplicationScore(both, sameItem - both, sameFact - both, factOf.Count, missing);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"precision {Precision:P1} ({TruePairs} of {TruePairs + FalsePairs} merged pairs right), recall {Recall:P1} ({TruePairs} of {TruePairs + MissedPairs} same-fact pairs merged), {Resources} resources, {Missing.Count} missing");

    private static long Pairs<T>(IEnumerable<IGrouping<T, (string Fact, string Item)>> groups) =>
        groups.Sum(g => { long n = g.Count(); return n * (n - 1) / 2; });
}
