using Aggregator.Sandbox.Personas;

namespace Aggregator.Sandbox.FhirData;

/// <summary>
/// Everything one FHIR base serves, indexed for reads and patient searches. Immutable once built:
/// a change publishes a new dataset, so readers never lock.
/// </summary>
public sealed class FhirDataset
{
    private static readonly IReadOnlyList<StoredResource> None = [];

    private readonly Dictionary<string, StoredResource> _byReference;
    private readonly Dictionary<string, Dictionary<string, List<StoredResource>>> _byPatient;
    private readonly Dictionary<string, List<StoredResource>> _byType;
    private readonly Dictionary<string, List<StoredResource>> _provenanceByTarget;
    private readonly Dictionary<string, PatientAccount> _accountsByUserName;

    public FhirDataset(string persona, FhirVersion version, IEnumerable<StoredResource> resources, IReadOnlyList<PatientAccount> accounts)
    {
        Persona = persona;
        Version = version;
        Accounts = accounts;
        _accountsByUserName = accounts.ToDictionary(a => a.Username, StringComparer.OrdinalIgnoreCase);
        _byReference = new Dictionary<string, StoredResource>(StringComparer.Ordinal);
        foreach (var resource in resources)
        {
            // Shared resources (an Organization in several patients' files) keep their first copy.
            _byReference.TryAdd(resource.Reference, resource);
        }

        _byType = _byReference.Values
            .GroupBy(r => r.Type, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderBy(r => r, SearchOrder.Instance).ToList(), StringComparer.Ordinal);
        _byPatient = _byReference.Values
            .Where(r => r.PatientId is not null)
            .GroupBy(r => r.PatientId!, StringComparer.Ordinal)
            .ToDictionary(
                g => g.Key,
                g => g.GroupBy(r => r.Type, StringComparer.Ordinal)
                    .ToDictionary(t => t.Key, t => t.OrderBy(r => r, SearchOrder.Instance).ToList(), StringComparer.Ordinal),
                StringComparer.Ordinal);
        _provenanceByTarget = _byType.GetValueOrDefault("Provenance", [])
            .SelectMany(p => p.Targets.Select(target => (target, p)))
            .GroupBy(x => x.target, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(x => x.p).ToList(), StringComparer.Ordinal);
    }

    public string Persona { get; }

    public FhirVersion Version { get; }

    public IReadOnlyList<PatientAccount> Accounts { get; }

    public IEnumerable<string> ResourceTypes => _byType.Keys;

    public int Count => _byReference.Count;

    public bool HasType(string type) => _byType.ContainsKey(type);

    public StoredResource? Find(string type, string id) =>
        _byReference.GetValueOrDefault($"{type}/{id}");

    public StoredResource? Find(string reference) => _byReference.GetValueOrDefault(reference);

    /// <summary>A patient's resources of one type, in search order.</summary>
    public IReadOnlyList<StoredResource> InCompartment(string patientId, string type) =>
        _byPatient.TryGetValue(patientId, out var byType) && byType.TryGetValue(type, out var list) ? list : None;

    /// <summary>All resources of one type, in search order.</summary>
    public IReadOnlyList<StoredResource> OfType(string type) => _byType.TryGetValue(type, out var list) ? list : None;

    public PatientAccount? FindAccount(string userName) => _accountsByUserName.GetValueOrDefault(userName.Trim());

    public IReadOnlyList<StoredResource> ProvenanceFor(string reference) =>
        _provenanceByTarget.TryGetValue(reference, out var list) ? list : None;
}

/// <summary>Searches return resources oldest change first, ties broken by id, so paging keys are stable.</summary>
public sealed class SearchOrder : IComparer<StoredResource>
{
    public static readonly SearchOrder Instance = new();

    public int Compare(StoredResource? x, StoredResource? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null)
        {
            return -1;
        }

        if (y is null)
        {
            return 1;
        }

        var byTime = x.LastUpdated.UtcTicks.CompareTo(y.LastUpdated.UtcTicks);
        return byTime != 0 ? byTime : string.CompareOrdinal(x.Id, y.Id);
    }
}
