using Aggregator.Sandbox.Generator;
using Aggregator.Sandbox.Personas;

namespace Aggregator.Sandbox.FhirData;

/// <summary>
/// The datasets of every FHIR base; empty until loading has finished. Readers take the current dataset without
/// locking; a change (the test API's data mutation) builds a new dataset and swaps it in, one writer at a time.
/// </summary>
public sealed class FhirStore
{
    private readonly Lock _writeGate = new();
    private volatile IReadOnlyDictionary<string, FhirDataset>? _datasets;

    public bool IsLoaded => _datasets is not null;

    public IEnumerable<FhirDataset> Datasets => _datasets?.Values ?? [];

    /// <summary>The generated people's ground truth, as generated (changes made through the test API are not in it).</summary>
    public IReadOnlyList<PersonOverlap> Overlap { get; private set; } = [];

    public void Publish(LoadedData data)
    {
        Overlap = data.Overlap;
        _datasets = data.Datasets.ToDictionary(d => Key(d.Persona, d.Version), StringComparer.OrdinalIgnoreCase);
    }

    public FhirDataset? Find(FhirBase fhirBase) =>
        _datasets?.GetValueOrDefault(Key(fhirBase.Persona.Name, fhirBase.Version));

    /// <summary>Applies a change to one base's dataset; the change sees the latest dataset and returns the next one.</summary>
    public T Change<T>(FhirBase fhirBase, Func<FhirDataset, (FhirDataset Next, T Result)> change)
    {
        lock (_writeGate)
        {
            var current = _datasets ?? throw new InvalidOperationException("The data has not been loaded yet.");
            var key = Key(fhirBase.Persona.Name, fhirBase.Version);
            var (next, result) = change(current[key]);
            _datasets = new Dictionary<string, FhirDataset>(current, StringComparer.OrdinalIgnoreCase) { [key] = next };
            return result;
        }
    }

    private static string Key(string persona, FhirVersion version) => $"{persona}/{version}";
}
