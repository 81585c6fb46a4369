using Aggregator.Sandbox.Personas;

namespace Aggregator.Sandbox.FhirData;

/// <summary>The datasets of every FHIR base; empty until loading has finished.</summary>
public sealed class FhirStore
{
    private volatile IReadOnlyDictionary<string, FhirDataset>? _datasets;

    public bool IsLoaded => _datasets is not null;

    public IEnumerable<FhirDataset> Datasets => _datasets?.Values ?? [];

    public void Publish(IEnumerable<FhirDataset> datasets) =>
        _datasets = datasets.ToDictionary(d => Key(d.Persona, d.Version), StringComparer.OrdinalIgnoreCase);

    public FhirDataset? Find(FhirBase fhirBase) =>
        _datasets?.GetValueOrDefault(Key(fhirBase.Persona.Name, fhirBase.Version));

    private static string Key(string persona, FhirVersion version) => $"{persona}/{version}";
}
