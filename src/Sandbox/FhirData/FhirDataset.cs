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
    private readonly Dictionary<string, DateTimeOffset> _deleted;

    public FhirDataset(string persona, FhirVersion version, IEnumerable<StoredResource> resources, IReadOnlyList<PatientAccount> accounts)
    {
        Persona = persona;
        Version = version;
        Accounts = accounts;
        _accountsByUserName = accounts.ToDictionary(a => a.Username, StringComparer.OrdinalIgnoreCase);
        _deleted = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
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
        _provenanceByTarget = ProvenanceIndex(_byType);
    }

    private FhirDataset(FhirDataset source, Dictionary<string, StoredResource> byReference,
        Dictionary<string, Dictionary<string, List<StoredResource>>> byPatient, Dictionary<string, List<StoredResource>> byType,
        Dictionary<string, DateTimeOffset> deleted)
    {
        Persona = source.Persona;
        Version = source.Version;
        Accounts = source.Accounts;
        _accountsByUserName = source._accountsByUserName;
        _byReference = byReference;
        _byPatient = byPatient;
        _byType = byType;
        _deleted = deleted;
        _provenanceByTarget = ProvenanceIndex(_byType);
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

    /// <summary>When a resource was deleted through the test API, if it was (reads then answer 410 Gone).</summary>
    public DateTimeOffset? DeletedAt(string type, string id) =>
        _deleted.TryGetValue($"{type}/{id}", out var at) ? at : null;

    /// <summary>A copy of this dataset with the resource added, or replacing the one of the same type and id.</summary>
    public FhirDataset With(StoredResource resource)
    {
        var previous = _byReference.GetValueOrDefault(resource.Reference);
        var byReference = new Dictionary<string, StoredResource>(_byReference, StringComparer.Ordinal) { [resource.Reference] = resource };
        var byType = new Dictionary<string, List<StoredResource>>(_byType, StringComparer.Ordinal)
        {
            [resource.Type] = Replace(_byType.GetValueOrDefault(resource.Type), previous, resource),
        };
        var byPatient = WithoutInCompartment(previous);
        if (resource.PatientId is { } patientId)
        {
            var types = new Dictionary<string, List<StoredResource>>(byPatient.GetValueOrDefault(patientId) ?? [], StringComparer.Ordinal);
            types[resource.Type] = Replace(types.GetValueOrDefault(resource.Type), null, resource);
            byPatient[patientId] = types;
        }

        var deleted = new Dictionary<string, DateTimeOffset>(_deleted, StringComparer.Ordinal);
        deleted.Remove(resource.Reference);
        return new FhirDataset(this, byReference, byPatient, byType, deleted);
    }

    /// <summary>A copy of this dataset without the resource, remembering when it went.</summary>
    public FhirDataset Without(StoredResource resource, DateTimeOffset deletedAt)
    {
        var byReference = new Dictionary<string, StoredResource>(_byReference, StringComparer.Ordinal);
        byReference.Remove(resource.Reference);
        var byType = new Dictionary<string, List<StoredResource>>(_byType, StringComparer.Ordinal)
        {
            [resource.Type] = Replace(_byType.GetValueOrDefault(resource.Type), resource, null),
        };
        var deleted = new Dictionary<string, DateTimeOffset>(_deleted, StringComparer.Ordinal) { [resource.Reference] = deletedAt };
        return new FhirDataset(this, byReference, WithoutInCompartment(resource), byType, deleted);
    }

    private Dictionary<string, Dictionary<string, List<StoredResource>>> WithoutInCompartment(StoredResource? resource)
    {
        var byPatient = new Dictionary<string, Dictionary<string, List<StoredResource>>>(_byPatient, StringComparer.Ordinal);
        if (resource?.PatientId is { } patientId && byPatient.TryGetValue(patientId, out var existing))
        {
            byPatient[patientId] = new Dictionary<string, List<StoredResource>>(existing, StringComparer.Ordinal)
            {
                [resource.Type] = Replace(existing.GetValueOrDefault(resource.Type), resource, null),
            };
        }

        return byPatient;
    }

    /// <summary>A new list in search order without <paramref name="remove"/> and with <paramref name="add"/>.</summary>
    private static List<StoredResource> Replace(List<StoredResource>? list, StoredResource? remove, StoredResource? add)
    {
        var next = list is null ? [] : list.Where(r => !ReferenceEquals(r, remove)).ToList();
        if (add is not null)
        {
            var at = next.BinarySearch(add, SearchOrder.Instance);
            next.Insert(at < 0 ? ~at : at, add);
        }

        return next;
    }

    private static Dictionary<string, List<StoredResource>> ProvenanceIndex(Dictionary<string, List<StoredResource>> byType) =>
        byType.GetValueOrDefault("Provenance", [])
            .SelectMany(p => p.Targets.Select(target => (target, p)))
            .GroupBy(x => x.target, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(x => x.p).ToList(), StringComparer.Ordinal);
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
