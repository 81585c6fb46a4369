using System.Text.Json;
using Aggregator.Domain.Providers;
using Microsoft.Extensions.Caching.Memory;

namespace Aggregator.Infrastructure.Sync;

/// <summary>What a FHIR server's CapabilityStatement (R4) or Conformance (DSTU2) says it can search.</summary>
public sealed record ServerCapabilities(IReadOnlyDictionary<string, IReadOnlySet<string>> SearchParameters, IReadOnlySet<string> CommonParameters)
{
    public static readonly ServerCapabilities Unknown = new(new Dictionary<string, IReadOnlySet<string>>(), new HashSet<string>());

    public bool IsKnown => SearchParameters.Count > 0;

    public bool OffersPatientSearch(string type) =>
        SearchParameters.TryGetValue(type, out var parameters) && parameters.Contains("patient");

    /// <summary>Incremental search needs <c>_lastUpdated</c>; a server that does not say so is searched whole.</summary>
    public bool SupportsLastUpdated(string type) =>
        CommonParameters.Contains("_lastUpdated") || (SearchParameters.TryGetValue(type, out var parameters) && parameters.Contains("_lastUpdated"));
}

/// <summary>Reads and caches (for an hour) a server's capabilities; a server without a readable statement is <see cref="ServerCapabilities.Unknown"/>.</summary>
public sealed class CapabilityProbe(IHttpClientFactory http, IMemoryCache cache)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromHours(1);

    public async Task<ServerCapabilities> ReadAsync(Provider provider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(provider);
        var key = "capabilities:" + provider.FhirBaseUrl;
        if (cache.TryGetValue(key, out ServerCapabilities? cached) && cached is not null)
        {
            return cached;
        }

        var capabilities = await FetchAsync(provider, cancellationToken);
        cache.Set(key, capabilities, CacheFor);
        return capabilities;
    }

    private async Task<ServerCapabilities> FetchAsync(Provider provider, CancellationToken cancellationToken)
    {
        try
        {
            var baseUrl = provider.FhirBaseUrl.EndsWith('/') ? provider.FhirBaseUrl : provider.FhirBaseUrl + "/";
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(new Uri(baseUrl), "metadata"));
            request.Headers.Accept.ParseAdd(provider.FhirVersion == FhirVersion.Dstu2 ? "application/json+fhir" : "application/fhir+json");
            using var response = await http.CreateClient(Providers.SmartDiscovery.HttpClientName).SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return ServerCapabilities.Unknown;
            }

            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var document = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
            return Read(document.RootElement);
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return ServerCapabilities.Unknown;
        }
    }

    private static ServerCapabilities Read(JsonElement statement)
    {
        var types = new Dictionary<string, IReadOnlySet<string>>(StringComparer.Ordinal);
        var common = new HashSet<string>(StringComparer.Ordinal);
        if (!statement.TryGetProperty("rest", out var rests) || rests.ValueKind != JsonValueKind.Array)
        {
            return ServerCapabilities.Unknown;
        }

        foreach (var rest in rests.EnumerateArray())
        {
            common.UnionWith(Names(rest));
            if (rest.TryGetProperty("resource", out var resources) && resources.ValueKind == JsonValueKind.Array)
            {
                foreach (var resource in resources.EnumerateArray())
                {
                    if (resource.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String)
                    {
                        types[type.GetString()!] = Names(resource);
                    }
                }
            }
        }

        return new ServerCapabilities(types, common);
    }

    private static HashSet<string> Names(JsonElement element) =>
        element.TryGetProperty("searchParam", out var parameters) && parameters.ValueKind == JsonValueKind.Array
            ? parameters.EnumerateArray().Where(p => p.TryGetProperty("name", out _)).Select(p => p.GetProperty("name").GetString()!).ToHashSet(StringComparer.Ordinal)
            : new HashSet<string>(StringComparer.Ordinal);
}
