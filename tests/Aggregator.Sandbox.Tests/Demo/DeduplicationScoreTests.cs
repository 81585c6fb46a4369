using Aggregator.Sandbox.Demo;

namespace Aggregator.Sandbox.Tests.Demo;

/// <summary>The score `demo accuracy` prints: wrong merges cost precision, split facts cost recall, lost resources are named.</summary>
public sealed class DeduplicationScoreTests
{
    private static readonly Dictionary<string, string> Truth = new(StringComparer.Ordinal)
    {
        ["a|Observation/1"] = "glucose", ["b|Observation/9"] = "glucose", ["c|Observation/4"] = "glucose",
        ["a|Observation/2"] = "a1c", ["b|Observation/8"] = "a1c",
        ["a|Condition/5"] = "asthma",
    };

    [Fact]
    public void A_merge_that_follows_the_truth_scores_100_percent_both_ways()
    {
        var score = DeduplicationScore.Compute(Truth, Items(("a|Observation/1", "i1"), ("b|Observation/9", "i1"), ("c|Observation/4", "i1"),
            ("a|Observation/2", "i2"), ("b|Observation/8", "i2"), ("a|Condition/5", "i3")));

        Assert.Equal((1.0, 1.0, 4L), (score.Precision, score.Recall, score.TruePairs));
        Assert.Empty(score.Missing);
    }

    [Fact]
    public void Merging_two_different_labs_costs_precision_and_splitting_one_costs_recall()
    {
        // The two a1c results are wrongly merged into the glucose item; one glucose result is left on its own.
        var score = DeduplicationScore.Compute(Truth, Items(("a|Observation/1", "i1"), ("b|Observation/9", "i1"), ("c|Observation/4", "i9"),
            ("a|Observation/2", "i1"), ("b|Observation/8", "i1"), ("a|Condition/5", "i3")));

        // Pairs in item i1: 6, of which 2 are right (glucose 1~9, a1c 2~8). Same-fact pairs: 3 glucose + 1 a1c = 4, of which 2 merged.
        Assert.Equal(2, score.TruePairs);
        Assert.Equal(4, score.FalsePairs);
        Assert.Equal(2, score.MissedPairs);
        Assert.Equal(2.0 / 6, score.Precision, 6);
        Assert.Equal(0.5, score.Recall, 6);
    }

    [Fact]
    public void A_resource_in_no_item_is_reported_missing()
    {
        var score = DeduplicationScore.Compute(Truth, Items(("a|Observation/1", "i1"), ("b|Observation/9", "i1"), ("c|Observation/4", "i1"),
            ("a|Observation/2", "i2"), ("b|Observation/8", "i2")));

        Assert.Equal(["a|Condition/5"], score.Missing);
    }

    private static Dictionary<string, string> Items(params (string Resource, string Item)[] pairs) =>
        pairs.ToDictionary(p => p.Resource, p => p.Item, StringComparer.Ordinal);
}
