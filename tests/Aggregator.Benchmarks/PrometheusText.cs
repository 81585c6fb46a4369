using System.Globalization;

namespace Aggregator.Benchmarks;

/// <summary>Figures read from a host's <c>/metrics</c> (Prometheus text), as an operator would read them.</summary>
internal static class PrometheusText
{
    /// <summary>
    /// The sum of a metric's samples in Prometheus text (those whose labels contain <paramref name="label"/>, when given);
    /// null when it has none.
    /// </summary>
    public static double? Sum(string text, string name, string? label = null)
    {
        var values = text.Split('\n')
            .Where(line => line.StartsWith(name + "{", StringComparison.Ordinal) || line.StartsWith(name + " ", StringComparison.Ordinal))
            .Where(line => label is null || line.Contains(label, StringComparison.Ordinal))
            .Select(line => double.Parse(line[(line.Contains('}', StringComparison.Ordinal) ? line.LastIndexOf('}') + 1 : name.Length)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture))
            .ToList();
        return values.Count == 0 ? null : values.Sum();
    }
}
