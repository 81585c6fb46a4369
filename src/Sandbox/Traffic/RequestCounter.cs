using System.Collections.Concurrent;

namespace Aggregator.Sandbox.Traffic;

public enum CountedRequest
{
    Fhir,
    Token,
    RefreshToken,
}

/// <summary>What <c>GET /_test/requests</c> answers.</summary>
public sealed record RequestCounts(string? Persona, string? PatientId, long FhirRequests, long TokenRequests, long RefreshRequests);

/// <summary>
/// Counts FHIR reads and searches and token endpoint calls per persona and patient, so tests can assert what a
/// client did ("exactly one refresh"). The patient is the one the token, code or refresh token belongs to ("" when unknown).
/// </summary>
public sealed class RequestCounter
{
    private readonly ConcurrentDictionary<(string Persona, string Patient, CountedRequest Kind), long> _counts = new();

    public void Count(string persona, string? patientId, CountedRequest kind) =>
        _counts.AddOrUpdate((persona, patientId ?? "", kind), 1, (_, n) => n + 1);

    public RequestCounts Read(string? persona, string? patientId)
    {
        long Sum(CountedRequest kind) => _counts.Where(c => c.Key.Kind == kind && Matches(c.Key, persona, patientId)).Sum(c => c.Value);
        return new RequestCounts(persona, patientId, Sum(CountedRequest.Fhir), Sum(CountedRequest.Token), Sum(CountedRequest.RefreshToken));
    }

    public void Reset(string? persona, string? patientId)
    {
        foreach (var key in _counts.Keys.Where(k => Matches(k, persona, patientId)))
        {
            _counts.TryRemove(key, out _);
        }
    }

    private static bool Matches((string Persona, string Patient, CountedRequest Kind) key, string? persona, string? patientId) =>
        (persona is null || key.Persona == persona) && (patientId is null || key.Patient == patientId);
}
