using System.Globalization;
using System.Text.Json;
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

/// <summary>
/// When a fact happened: an instant (kept in UTC, with the offset it was written in) when the source gave
/// a time, else a date.
/// </summary>
public readonly record struct ClinicalTime(DateTimeOffset At, bool HasTime, TimeSpan WrittenOffset = default)
{
    /// <summary>The calendar date in UTC.</summary>
    public string DateKey => At.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The calendar date where the source wrote it (in the offset it was written in); for a date, the date.</summary>
    public string WrittenDateKey => HasTime ? At.ToOffset(WrittenOffset).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : DateKey;

    /// <summary>The calendar dates this moment can be said to fall on: its UTC date and the date where it was written.</summary>
    public IReadOnlyList<string> DayKeys => WrittenDateKey == DateKey ? [DateKey] : [DateKey, WrittenDateKey];

    /// <summary>The same day: a date matches an instant whose date, in UTC or where it was written, is that date.</summary>
    public bool SameDay(ClinicalTime other) => DayKeys.Any(d => other.DayKeys.Contains(d, StringComparer.Ordinal));

    /// <summary>Instants compare as UTC instants; if either side is a date only, days compare (see <see cref="SameDay"/>).</summary>
    public bool SameMoment(ClinicalTime other) => HasTime && other.HasTime ? At.UtcDateTime == other.At.UtcDateTime : SameDay(other);
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

    /// <summary>When the fact ended (an encounter's or a procedure's period end), where the source says.</summary>
    public ClinicalTime? End { get; init; }

    /// <summary>
    /// What else tells two facts of one code at one moment apart (body site, reason), as coded values per
    /// aspect: two items that both state an aspect must share one of its values to be the same fact.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Qualifiers { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>
    /// The measured values of the results a report points to (by result code): where both reports have a result of
    /// one code, its values must match; a result one side lacks never keeps two reports apart.
    /// </summary>
    public IReadOnlyList<(string Part, NormalizedValue Value)> Results { get; init; } = [];

    /// <summary>The measured values (one, or one per component), normalised, that must match for a merge.</summary>
    public IReadOnlyList<(string Part, NormalizedValue Value)> Values { get; init; } = [];

    private readonly byte[] _fields = "{}"u8.ToArray();

    /// <summary>
    /// The category's fields as the API shows them: a new copy on each read. They are kept as UTF-8 JSON, about a fifth
    /// of the tree's size, since a rebuild holds every item of a patient's record at once.
    /// </summary>
    public required JsonObject Fields
    {
        get => JsonNode.Parse(_fields)!.AsObject();
        init => _fields = JsonSerializer.SerializeToUtf8Bytes(value);
    }
}
