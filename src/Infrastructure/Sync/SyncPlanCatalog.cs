using System.Text.Json;
using System.Text.Json.Serialization;
using Aggregator.Domain.Providers;
using Aggregator.Domain.Sync;

namespace Aggregator.Infrastructure.Sync;

/// <summary>The sync plans shipped in <c>sync-plans.json</c>: quirks are data, not code branches.</summary>
public sealed class SyncPlanCatalog
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
    private readonly Dictionary<string, SyncPlan> _plans;

    public SyncPlanCatalog()
    {
        using var stream = typeof(SyncPlanCatalog).Assembly.GetManifestResourceStream("Aggregator.Infrastructure.Sync.sync-plans.json")
            ?? throw new InvalidOperationException("The sync plans are missing from the build.");
        var file = JsonSerializer.Deserialize<PlanFile>(stream, Json) ?? throw new InvalidOperationException("The sync plans are empty.");
        _plans = new Dictionary<string, SyncPlan>(StringComparer.Ordinal);
        foreach (var plan in file.Plans)
        {
            _plans[plan.Name] = Resolve(plan);
        }
    }

    /// <summary>The provider's own plan, else the default of its FHIR version.</summary>
    public SyncPlan For(Provider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        if (provider.SyncPlan is { } name && _plans.TryGetValue(name, out var named))
        {
            return named;
        }

        return _plans[provider.FhirVersion == FhirVersion.Dstu2 ? "dstu2" : "r4"];
    }

    private SyncPlan Resolve(PlanDefinition definition)
    {
        if (definition.Base is null)
        {
            return new SyncPlan(definition.Name, definition.FhirVersion ?? FhirVersion.R4, definition.PageSize ?? 100,
                definition.Searches ?? [], definition.ReferencedTypes ?? []);
        }

        var basePlan = _plans[definition.Base];
        var overrides = (definition.Searches ?? []).ToDictionary(s => s.ResourceType, StringComparer.Ordinal);
        var searches = basePlan.Searches.Select(s => overrides.GetValueOrDefault(s.ResourceType, s))
            .Concat(overrides.Values.Where(o => basePlan.Searches.All(s => s.ResourceType != o.ResourceType)))
            .ToList();
        return new SyncPlan(definition.Name, definition.FhirVersion ?? basePlan.FhirVersion, definition.PageSize ?? basePlan.PageSize,
            searches, definition.ReferencedTypes ?? basePlan.ReferencedTypes);
    }

    private sealed record PlanFile(List<PlanDefinition> Plans);

    private sealed record PlanDefinition(
        string Name,
        string? Base,
        FhirVersion? FhirVersion,
        int? PageSize,
        List<SearchSpec>? Searches,
        List<string>? ReferencedTypes);
}
