namespace Aggregator.Domain.Records;

/// <summary>
/// One instance of each value that repeats across the facts one rebuild reads: thousands of readings of a record share
/// a handful of codings, displays, statuses and units, and a large record holds each of them once instead of
/// once per fact. The values are immutable; the pool is not thread-safe (one per rebuild).
/// </summary>
public sealed class SharedValues
{
    private readonly Dictionary<string, string> _texts = new(StringComparer.Ordinal);
    private readonly Dictionary<IReadOnlyList<Concept>, IReadOnlyList<Concept>> _codings = new(SameCodings.Instance);

    public string? Text(string? text)
    {
        if (text is null)
        {
            return null;
        }

        if (_texts.TryGetValue(text, out var known))
        {
            return known;
        }

        _texts[text] = text;
        return text;
    }

    /// <summary>The same codings in the same order: one list.</summary>
    public IReadOnlyList<Concept> Concepts(IReadOnlyList<Concept> concepts)
    {
        ArgumentNullException.ThrowIfNull(concepts);
        if (concepts.Count == 0)
        {
            return [];
        }

        if (_codings.TryGetValue(concepts, out var known))
        {
            return known;
        }

        IReadOnlyList<Concept> shared = [.. concepts.Select(c => new Concept(Text(c.System)!, Text(c.Code)!, Text(c.Display)))];
        _codings[shared] = shared;
        return shared;
    }

    /// <summary>The values with their units and parts shared, in a list of their exact size.</summary>
    public IReadOnlyList<(string Part, NormalizedValue Value)> Values(IReadOnlyList<(string Part, NormalizedValue Value)> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
        {
            return [];
        }

        var shared = new (string Part, NormalizedValue Value)[values.Count];
        for (var i = 0; i < values.Count; i++)
        {
            var (part, value) = values[i];
            shared[i] = (Text(part)!, value with { Unit = Text(value.Unit)! });
        }

        return shared;
    }

    /// <summary>Two lists of codings are the same when they hold equal codings in the same order.</summary>
    private sealed class SameCodings : IEqualityComparer<IReadOnlyList<Concept>>
    {
        public static readonly SameCodings Instance = new();

        public bool Equals(IReadOnlyList<Concept>? x, IReadOnlyList<Concept>? y) =>
            ReferenceEquals(x, y) || (x is not null && y is not null && x.SequenceEqual(y));

        public int GetHashCode(IReadOnlyList<Concept> obj)
        {
            var hash = new HashCode();
            foreach (var concept in obj)
            {
                hash.Add(concept);
            }

            return hash.ToHashCode();
        }
    }
}
