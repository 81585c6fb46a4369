using System.Text.Json;
using System.Text.Json.Serialization;
using Aggregator.Domain.Sync;

namespace Aggregator.Infrastructure.Sync;

/// <summary>How run counts are written: camelCase names, states as the API spells them.</summary>
public static class SyncCountsJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };
}

/// <summary>Reads a run's stored per-type counts.</summary>
public static class StoredSyncCounts
{
    /// <summary>Resources fetched so far (all of them once the run ended): the sum of the per-type counts a running sync keeps current.</summary>
    public static int ResourcesSoFar(JsonElement? typeCounts) =>
        typeCounts is { ValueKind: JsonValueKind.Object } counts
            ? counts.EnumerateObject().Sum(t => t.Value.TryGetProperty("fetched", out var fetched) && fetched.ValueKind == JsonValueKind.Number ? fetched.GetInt32() : 0)
            : 0;

    public static JsonElement? Parse(string? typeCounts) => typeCounts is null ? null : JsonSerializer.Deserialize<JsonElement>(typeCounts);
}

/// <summary>What one run did with one resource type; serialized into <c>sync_runs.type_counts</c>.</summary>
public sealed class TypeCounts
{
    public int Fetched { get; set; }

    [JsonPropertyName("new")]
    public int New { get; set; }

    public int Changed { get; set; }
    public int Unchanged { get; set; }
    public int Deleted { get; set; }

    /// <summary>Resources the server served that could not be used, kept aside with their error.</summary>
    public int Malformed { get; set; }

    public int Pages { get; set; }
    public long Bytes { get; set; }

    public CoverageState Outcome { get; set; } = CoverageState.Empty;

    /// <summary>Why a type was skipped or failed (status and the server's words), when it was.</summary>
    public string? Detail { get; set; }
}
