using Aggregator.Sandbox.Personas;

namespace Aggregator.Sandbox.Faults;

public enum FaultKind
{
    RateLimit,
    ServerError,
    Latency,
    ExpireTokens,
    RevokeGrant,
    MalformedResource,
    ExpireLinks,

    /// <summary>The answer's body never ends (until the client hangs up).</summary>
    EndlessBody,

    /// <summary>The answer's body comes a few bytes at a time, <c>latencyMs</c> apart (by default 1 s), never finishing in good time.</summary>
    SlowBody,

    /// <summary>A 302 to the same request (a client that follows it gets the real answer).</summary>
    Redirect,

    /// <summary>
    /// While active, search pages write <c>next</c> links host-relative (<c>/Observation?_page=...</c>) and attachment urls
    /// as <c>/Binary/{id}</c>: relative to the FHIR base, though a browser would read them as relative to the host.
    /// </summary>
    RelativeLinks,

    /// <summary>While active, attachment urls point at <c>{base}/documents/{id}</c>, raw content that is not a Binary resource.</summary>
    DocumentPaths,

    /// <summary>
    /// The next search page (once by default) also carries JSON of odd shapes: an entry that is not an object, a numeric
    /// link relation and search mode, and a copy of its first resource whose elements have the wrong JSON types.
    /// </summary>
    OddJson,
}

public static class FaultKinds
{
    private static readonly Dictionary<string, FaultKind> ByName = new(StringComparer.Ordinal)
    {
        ["rate-limit"] = FaultKind.RateLimit,
        ["server-error"] = FaultKind.ServerError,
        ["latency"] = FaultKind.Latency,
        ["expire-tokens"] = FaultKind.ExpireTokens,
        ["revoke-grant"] = FaultKind.RevokeGrant,
        ["malformed-resource"] = FaultKind.MalformedResource,
        ["expire-links"] = FaultKind.ExpireLinks,
        ["endless-body"] = FaultKind.EndlessBody,
        ["slow-body"] = FaultKind.SlowBody,
        ["redirect"] = FaultKind.Redirect,
        ["relative-links"] = FaultKind.RelativeLinks,
        ["document-paths"] = FaultKind.DocumentPaths,
        ["odd-json"] = FaultKind.OddJson,
    };

    public static IEnumerable<string> Names => ByName.Keys;

    public static bool TryParse(string? name, out FaultKind kind) => ByName.TryGetValue(name ?? "", out kind);

    public static string Name(this FaultKind kind) => ByName.First(p => p.Value == kind).Key;
}

/// <summary>An injected fault while it is active. <see cref="Remaining"/> null means "until cleared".</summary>
public sealed record Fault(
    string Id,
    string Persona,
    string? PatientId,
    FaultKind Kind,
    int? Remaining,
    int RetryAfterSeconds,
    bool RetryAfterDate,
    int? LatencyMs,
    int Status,
    DateTimeOffset CreatedAt,
    long? LinksIssuedUpTo,
    FhirVersion? FhirVersion = null)
{
    /// <summary>A fault narrowed to one FHIR version acts on that version's requests only.</summary>
    public bool Matches(string persona, string? patientId, FhirVersion? version = null) =>
        Persona == persona && (PatientId is null || PatientId == patientId) && (FhirVersion is null || FhirVersion == version);
}

/// <summary>How the faults ask a search page to be written.</summary>
[Flags]
public enum PageQuirks
{
    None = 0,
    RelativeLinks = 1,
    DocumentPaths = 2,
    OddJson = 4,
}

/// <summary>What the faults decided for one FHIR request: extra latency, and an error answer instead of the real one.</summary>
public readonly record struct PlannedFaults(TimeSpan Delay, Fault? Failure);

/// <summary>
/// The active faults, per persona and optionally one patient (the persona-local id a request's access token names).
/// Counted faults are used up atomically, so parallel requests never both take the last one.
/// </summary>
public sealed class FaultInjector
{
    private readonly Lock _gate = new();
    private readonly List<Fault> _active = [];

    public void Add(Fault fault)
    {
        lock (_gate)
        {
            _active.Add(fault);
        }
    }

    public IReadOnlyList<Fault> Active()
    {
        lock (_gate)
        {
            return [.. _active];
        }
    }

    /// <summary>Clears the faults of a persona (all when null), of one patient there when given.</summary>
    public int Clear(string? persona, string? patientId)
    {
        lock (_gate)
        {
            return _active.RemoveAll(f => (persona is null || f.Persona == persona) && (patientId is null || f.PatientId == patientId));
        }
    }

    public bool Remove(string id)
    {
        lock (_gate)
        {
            return _active.RemoveAll(f => f.Id == id) > 0;
        }
    }

    /// <summary>The kinds that act on each FHIR request as it arrives (and may be narrowed to one FHIR version).</summary>
    public static bool ActsPerRequest(FaultKind kind) =>
        kind is FaultKind.Latency or FaultKind.RateLimit or FaultKind.ServerError or FaultKind.EndlessBody or FaultKind.SlowBody or FaultKind.Redirect;

    /// <summary>Latency adds up over every matching fault; the first matching error fault answers instead of the server.</summary>
    public PlannedFaults BeforeRequest(string persona, FhirVersion version, string? patientId)
    {
        lock (_gate)
        {
            var delay = TimeSpan.Zero;
            Fault? failure = null;
            foreach (var fault in _active.ToList())
            {
                if (!fault.Matches(persona, patientId, version))
                {
                    continue;
                }

                if (fault.Kind == FaultKind.Latency)
                {
                    delay += TimeSpan.FromMilliseconds(fault.LatencyMs ?? 0);
                    UseOnce(fault);
                }
                else if (failure is null && fault.Kind is FaultKind.RateLimit or FaultKind.ServerError or FaultKind.EndlessBody or FaultKind.SlowBody or FaultKind.Redirect)
                {
                    failure = fault;
                    UseOnce(fault);
                }
            }

            return new PlannedFaults(delay, failure);
        }
    }

    /// <summary>Whether the search page being served should carry a malformed resource (uses the fault up).</summary>
    public bool TakeMalformed(string persona, string? patientId)
    {
        lock (_gate)
        {
            var fault = _active.Find(f => f.Kind == FaultKind.MalformedResource && f.Matches(persona, patientId));
            if (fault is null)
            {
                return false;
            }

            UseOnce(fault);
            return true;
        }
    }

    /// <summary>How the search page being served is written (uses an <c>odd-json</c> fault up).</summary>
    public PageQuirks PageQuirks(string persona, string? patientId)
    {
        lock (_gate)
        {
            var quirks = Faults.PageQuirks.None;
            if (_active.Exists(f => f.Kind == FaultKind.RelativeLinks && f.Matches(persona, patientId)))
            {
                quirks |= Faults.PageQuirks.RelativeLinks;
            }

            if (_active.Exists(f => f.Kind == FaultKind.DocumentPaths && f.Matches(persona, patientId)))
            {
                quirks |= Faults.PageQuirks.DocumentPaths;
            }

            if (_active.Find(f => f.Kind == FaultKind.OddJson && f.Matches(persona, patientId)) is { } odd)
            {
                quirks |= Faults.PageQuirks.OddJson;
                UseOnce(odd);
            }

            return quirks;
        }
    }

    /// <summary>Whether a <c>next</c> link was issued before an <c>expire-links</c> fault that covers it.</summary>
    public bool LinkExpired(string persona, string? patientId, long issuedSerial)
    {
        lock (_gate)
        {
            return _active.Exists(f => f.Kind == FaultKind.ExpireLinks && f.Matches(persona, patientId) && issuedSerial <= f.LinksIssuedUpTo);
        }
    }

    private void UseOnce(Fault fault)
    {
        var index = _active.IndexOf(fault);
        if (fault.Remaining is not { } remaining)
        {
            return;
        }

        if (remaining <= 1)
        {
            _active.RemoveAt(index);
        }
        else
        {
            _active[index] = fault with { Remaining = remaining - 1 };
        }
    }
}
