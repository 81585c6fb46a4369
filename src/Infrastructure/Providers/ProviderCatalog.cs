using System.Text.Json;
using System.Text.Json.Serialization;
using Aggregator.Domain.Providers;

namespace Aggregator.Infrastructure.Providers;

/// <summary>One directory entry as the catalog file, a brands bundle or the sandbox describes it.</summary>
public sealed record ProviderEntry(
    string Slug,
    string Name,
    string Brand,
    FhirVersion FhirVersion,
    string FhirBaseUrl,
    string? AuthorizeUrl = null,
    string? TokenUrl = null,
    string? RevocationUrl = null,
    string? IntrospectionUrl = null,
    string? Location = null,
    string? Scopes = null,
    string? SyncPlan = null);

/// <summary>The provider catalog shipped in the repository (<c>provider-catalog.json</c>).</summary>
public static class ProviderCatalog
{
    public const string Origin = "catalog";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    public static IReadOnlyList<ProviderEntry> Load()
    {
        using var stream = typeof(ProviderCatalog).Assembly.GetManifestResourceStream("Aggregator.Infrastructure.Providers.provider-catalog.json")
            ?? throw new InvalidOperationException("The provider catalog is missing from the build.");
        var file = JsonSerializer.Deserialize<CatalogFile>(stream, Json) ?? throw new InvalidOperationException("The provider catalog is empty.");
        return file.Providers;
    }

    private sealed record CatalogFile(List<ProviderEntry> Providers);
}
