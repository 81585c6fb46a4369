using System.Collections.Concurrent;
using Aggregator.Sandbox.Personas;

namespace Aggregator.Sandbox.Traffic;

public enum CountedRequest
{
    Fhir,
    Token,
    RefreshToken,
}

/// <summary>What <c>GET /_test/requests</c> answers.</summary>
public sealed record RequestCounts(string? Persona, string? PatientId, long FhirRequests, long TokenRequests, long RefreshRequests, int FhirRequestsAtOnce);

/// <summary>
/// Counts FHIR reads and searches and token endpoint calls per persona and patient, so tests can assert what a
/// client did ("exactly one refresh"). The patient is the one the token, code or refresh token belongs to ("" when unknown).
/// </summary>
public sealed class RequestCounter
{
    private readonly ConcurrentDictionary<(string Persona, string Patient, CountedRequest Kind), long> _counts = new();
    private readonly ConcurrentDictionary<(string Persona, FhirVersion Version, string Patient), InFlight> _inFlight = new();

    public void Count(string persona, string? patientId, CountedRequest kind) =>
        _counts.AddOrUpdate((persona, patientId ?? "", kind), 1, (_, n) => n + 1);

    /// <summary>A FHIR request of the patient's at one FHIR base under way until the result is disposed; the most at once is kept.</summary>
    public IDisposable Underway(string persona, FhirVersion version, string? patientId)
    {
        var flight = _inFlight.GetOrAdd((persona, version, patientId ?? ""), _ => new InFlight());
        flight.Begin();
        return flight;
    }

    /// <param name="version">Narrows <see cref="RequestCounts.FhirRequestsAtOnce"/> to one FHIR base of the persona.</param>
    public RequestCounts Read(string? persona, string? patientId, FhirVersion? version = null)
    {
        long Sum(CountedRequest kind) => _counts.Where(c => c.Key.Kind == kind && Matches(c.Key.Persona, c.Key.Patient, persona, patientId)).Sum(c => c.Value);
        var atOnce = _inFlight.Where(f => Matches(f.Key.Persona, f.Key.Patient, persona, patientId) && (version is null || f.Key.Version == version))
            .Select(f => f.Value.Most).DefaultIfEmpty().Max();
        return new RequestCounts(persona, patientId, Sum(CountedRequest.Fhir), Sum(CountedRequest.Token), Sum(CountedRequest.RefreshToken), atOnce);
    }

    public void Reset(string? persona, string? patientId)
    {
        foreach (var key in _counts.Keys.Where(k => Matches(k.Persona, k.Patient, persona, patientId)))
        {
            _counts.TryRemove(key, out _);
        }

        foreach (var flight in _inFlight.Where(f => Matches(f.Key.Persona, f.Key.Patient, persona, patientId)))
        {
            flight.Value.ResetMost();
        }
    }

    private static bool Matches(string keyPersona, string keyPatient, string? persona, string? patientId) =>
        (persona is null || keyPersona == persona) && (patientId is null || keyPatient == patientId);

    /// <summary>One patient's FHIR requests under way now, and the most there were at once since the last reset.</summary>
    private sealed class InFlight : IDisposable
    {
        private int _now;
        private int _most;

        public int Most => Volatile.Read(ref _most);

        public void Begin()
        {
            var now = Interlocked.Increment(ref _now);
            int most;
            while (now > (most = Volatile.Read(ref _most)) && Interlocked.CompareExchange(ref _most, now, most) != most)
            {
            }
        }

        /// <summary>Counting again from the requests under way now.</summary>
        public void ResetMost() => Volatile.Write(ref _most, Volatile.Read(ref _now));

        public void Dispose() => Interlocked.Decrement(ref _now);
    }
}
