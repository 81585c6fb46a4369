using System.Collections.Concurrent;
using System.Globalization;
using Fhir.Metrics;

namespace Aggregator.Domain.Records;

/// <summary>A measured value in its canonical UCUM unit, with the half-step of the precision the source reported.</summary>
public readonly record struct NormalizedValue(decimal Value, string Unit, decimal Tolerance)
{
    /// <summary>
    /// A relative floor under the tolerance: a value converted between units in floating point (180 mg/dL
    /// written as 1.7999999999999998 g/L) reports a precision it does not have.
    /// </summary>
    private const decimal RelativeFloor = 0.000001m;

    /// <summary>Equal within the coarser of the two reported precisions (and never finer than a millionth of the value).</summary>
    public bool Matches(NormalizedValue other) =>
        Unit == other.Unit && Math.Abs(Value - other.Value) <= Math.Max(Math.Max(Tolerance, other.Tolerance), Math.Max(Math.Abs(Value), Math.Abs(other.Value)) * RelativeFloor);

    /// <summary>How far apart two values of one unit are, relative to their size (for choosing the closest of several candidates).</summary>
    public double Distance(NormalizedValue other)
    {
        var scale = Math.Max(Math.Abs(Value), Math.Abs(other.Value));
        return scale == 0 ? 0 : (double)(Math.Abs(Value - other.Value) / scale);
    }
}

/// <summary>
/// Brings quantities to canonical UCUM units (Fhir.Metrics), so that 180 mg/dL and 1.8 g/L compare
/// equal and a mass concentration never equals a molar one. A small alias table maps common
/// non-UCUM spellings; units that do not convert linearly (temperatures) compare as given.
/// </summary>
public static class UnitNormalizer
{
    private const string Ucum = "http://unitsofmeasure.org";
    private static readonly FhirMetricService Metrics = new();
    private static readonly ConcurrentDictionary<string, (decimal Factor, string Unit)?> Factors = new(StringComparer.Ordinal);

    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["mmHg"] = "mm[Hg]",
        ["mm Hg"] = "mm[Hg]",
        ["lb"] = "[lb_av]",
        ["lbs"] = "[lb_av]",
        ["in"] = "[in_i]",
        ["inch"] = "[in_i]",
        ["ft"] = "[ft_i]",
        ["oz"] = "[oz_av]",
        ["bpm"] = "/min",
        ["beats/min"] = "/min",
        ["breaths/min"] = "/min",
        ["degF"] = "[degF]",
        ["°F"] = "[degF]",
        ["degC"] = "Cel",
        ["°C"] = "Cel",
        ["kg/m2"] = "kg/m2",
        ["mcg"] = "ug",
        ["mEq/L"] = "meq/L",
    };

    /// <summary>True for the UCUM system url, with or without the DSTU2-era trailing slash, or when no system is given.</summary>
    public static bool IsUcum(string? system) =>
        system is null || system.TrimEnd('/').Equals(Ucum, StringComparison.OrdinalIgnoreCase);

    public static NormalizedValue Normalize(decimal value, string? unit, string? system)
    {
        var given = string.IsNullOrWhiteSpace(unit) ? "1" : unit.Trim();
        var code = IsUcum(system) && Aliases.TryGetValue(given, out var alias) ? alias : given;
        var tolerance = HalfStep(value);
        if (IsUcum(system) && Factors.GetOrAdd(code, Factor) is { } factor)
        {
            return new NormalizedValue(value * factor.Factor, factor.Unit, tolerance * factor.Factor);
        }

        // Not convertible (a temperature, a non-UCUM unit): compare as given.
        return new NormalizedValue(value, code, tolerance);
    }

    /// <summary>Half of the last digit the value was reported with (70 → 0.5; 154.3 → 0.05).</summary>
    private static decimal HalfStep(decimal value)
    {
        var scale = (decimal.GetBits(value)[3] >> 16) & 0xFF;
        var step = 1m;
        for (var i = 0; i < scale; i++)
        {
            step /= 10m;
        }

        return step / 2m;
    }

    /// <summary>The factor from one <paramref name="code"/> to its canonical unit, when the conversion is linear.</summary>
    private static (decimal Factor, string Unit)? Factor(string code)
    {
        if (!Metrics.TryCanonicalize(("1", code, Ucum), out var one) || one is not { } unit)
        {
            return null;
        }

        // Affine units (temperatures) would need an offset: a factor alone would be wrong, so check 2 = 2 × 1.
        if (!Metrics.TryCanonicalize(("2", code, Ucum), out var two) || two is not { } double_)
        {
            return null;
        }

        var factor = decimal.Parse(unit.Item1, NumberStyles.Float, CultureInfo.InvariantCulture);
        var doubled = decimal.Parse(double_.Item1, NumberStyles.Float, CultureInfo.InvariantCulture);
        return doubled == factor * 2 && factor != 0 ? (factor, unit.Item2) : null;
    }
}
