using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Aggregator.Benchmarks;

/// <summary>
/// One figure of a run beside its ceiling, measured in the same run on the same data. <see cref="Ratio"/> is the
/// figure over the ceiling when more is better, the ceiling over the figure when less is better, so a ratio of 1
/// always means "as fast as the ceiling". <see cref="Target"/> is the issue's goal for that ratio, where one was set.
/// </summary>
internal sealed record BenchFigure(
    string Path,
    double Value,
    string Unit,
    string Ceiling,
    double CeilingValue,
    bool HigherIsBetter,
    double? Target,
    string? Detail)
{
    public double Ratio => Value <= 0 || CeilingValue <= 0 ? 0 : HigherIsBetter ? Value / CeilingValue : CeilingValue / Value;

    [JsonIgnore]
    public bool? MeetsTarget => Target is { } target ? Ratio >= target : null;
}

/// <summary>Every figure of one benchmark run: printed as one table at the end, and written as JSON.</summary>
internal sealed class BenchReport
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private readonly List<BenchFigure> _figures = [];

    public IReadOnlyList<BenchFigure> Figures => _figures;

    public void Add(BenchFigure figure)
    {
        _figures.Add(figure);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  → {figure.Path}: {Format(figure.Value, figure.Unit)} beside {figure.Ceiling} {Format(figure.CeilingValue, figure.Unit)} (ratio {figure.Ratio:0.00})"));
    }

    /// <summary>The table as Markdown (the README's Performance section shows it as printed).</summary>
    public void Print(string heading)
    {
        Console.WriteLine();
        Console.WriteLine(heading);
        Console.WriteLine();
        Console.WriteLine("| path | figure | ceiling (same run) | ratio | target |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var f in _figures)
        {
            var target = f.Target is { } t ? string.Create(CultureInfo.InvariantCulture, $"≥ {t:0.00} {(f.MeetsTarget == true ? "met" : "missed")}") : "";
            var detail = f.Detail is null ? "" : $" ({f.Detail})";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {f.Path} | {Format(f.Value, f.Unit)}{detail} | {f.Ceiling}: {Format(f.CeilingValue, f.Unit)} | {f.Ratio:0.00} | {target} |"));
        }
    }

    public async Task WriteJsonAsync(string path, object context)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var document = new { context, figures = _figures.Select(f => new { f.Path, f.Value, f.Unit, f.Ceiling, f.CeilingValue, f.HigherIsBetter, f.Ratio, f.Target, f.MeetsTarget, f.Detail }) };
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(document, Json));
        Console.WriteLine($"Written as JSON to {path}");
    }

    private static string Format(double value, string unit) => unit switch
    {
        "ms" => value.ToString(value < 10 ? "0.0" : "N0", CultureInfo.InvariantCulture) + " ms",
        "s" => value.ToString("0.00", CultureInfo.InvariantCulture) + " s",
        "MB" => value.ToString("N0", CultureInfo.InvariantCulture) + " MB",
        _ => value.ToString("N0", CultureInfo.InvariantCulture) + " " + unit,
    };
}
