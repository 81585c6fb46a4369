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
