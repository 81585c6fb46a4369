namespace Aggregator.Sandbox.Generator;

/// <summary>
/// SplitMix64: a small deterministic generator, so that the same seed makes the same people on every platform and
/// runtime version (System.Random's sequence is an implementation detail). Not for anything secret.
/// </summary>
public sealed class SeededRandom(ulong seed)
{
    private ulong _state = seed;

    public static SeededRandom For(int seed, string stream)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{seed}|{stream}")));
        return new SeededRandom(BitConverter.ToUInt64(hash, 0));
    }

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>An integer in [min, max).</summary>
    public int Next(int min, int max) => min + (int)(NextUInt64() % (ulong)(max - min));

    /// <summary>A decimal in [min, max], rounded to the given number of decimals.</summary>
    public decimal Between(decimal min, decimal max, int decimals)
    {
        var fraction = (decimal)(NextUInt64() >> 11) / (1UL << 53);
        return Math.Round(min + ((max - min) * fraction), decimals, MidpointRounding.AwayFromZero);
    }

    public bool Chance(int percent) => Next(0, 100) < percent;

    public T Pick<T>(IReadOnlyList<T> items) => items[Next(0, items.Count)];
}
