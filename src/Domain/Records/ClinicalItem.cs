using System.Text.Json.Nodes;

namespace Aggregator.Domain.Records;

/// <summary>Where a fact came from: one resource as one provider served it.</summary>
public sealed record SourceRef(
    Guid ConnectionId,
    string Provider,
    string ResourceType,
    string ResourceId,
    DateTimeOffset? LastUpdated);

/// <summary>A coded concept: system (normalised url) and code, with the display the source gave.</summary>
public sealed record Concept(string System, string Code, string? Display);

/// <summary>When a fact happened: an instant (UTC) when the source gave a time, else a date.</summary>
public readonly record struct ClinicalTime(DateTimeOffset At, bool HasTime)
{
    public string DateKey => At.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Instants compare as UTC instants; if either side is a date only, dates compare.</summary>
    public bool SameMoment(ClinicalTime other) => HasTime && other.HasTime ? At.UtcDateTime == other.At.UtcDateTime : DateKey == other.DateKey;
}

/// <summary>One source resource read as a clinical fact of one category, before de-duplication.</summary>
public sealed class ClinicalItem
{
    public required string Category { get; init; }
    public required SourceRef Source { get; init; }
    public IReadOnlyList<Concept> Codes { get; init; } = [];
    public string? Text { get; init; }
    public ClinicalTime? Time { get; init; }
    public string? Status { get; init; }

    /// <summary>Entered in error or refuted: left out of the record unless asked for.</summary>
    public bool Retracted { get; init; }

    public IReadOnlyList<string> Identifiers { get; init; } = [];

    /// <summary>The measured values (one, or one per component), normalised, that must match for a merge.</summary>
    public IReadOnlyList<(string Part, NormalizedValue Value)> Values { get; init; } = [];

    /// <summary>The category's fields as the API shows them.</summary>
    public required JsonObject Fields { get; init; }
}
