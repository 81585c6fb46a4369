using Aggregator.Domain.Providers;

namespace Aggregator.Domain.Sync;

/// <summary>What to fetch from one kind of FHIR server: searches in order, then referenced resources.</summary>
public sealed record SyncPlan(
    string Name,
    FhirVersion FhirVersion,
    int PageSize,
    IReadOnlyList<SearchSpec> Searches,
    IReadOnlyList<string> ReferencedTypes);

/// <summary>
/// One patient search. A fan-out repeats it once per value of one parameter (servers that require
/// <c>category</c> or <c>intent</c>); <see cref="StatusValuesOn400"/> retries it by status after a 400.
/// </summary>
public sealed record SearchSpec(
    string ResourceType,
    string? FanOutParameter = null,
    IReadOnlyList<string>? FanOutValues = null,
    IReadOnlyList<string>? StatusValuesOn400 = null,
    string? Include = null)
{
    /// <summary>The query strings this search runs, one per fan-out value (or one without).</summary>
    public IEnumerable<IReadOnlyList<KeyValuePair<string, string>>> Variants()
    {
        if (FanOutParameter is null || FanOutValues is not { Count: > 0 })
        {
            yield return [];
            yield break;
        }

        foreach (var value in FanOutValues)
        {
            yield return [new(FanOutParameter, value)];
        }
    }
}
