using System.Text.Json;

namespace Aggregator.Infrastructure.Records;

/// <summary>How many items one category of the record shows.</summary>
public sealed record CategoryTally(string Category, int Count);

/// <summary>
/// The record summary's counts and merged patient as the rebuild writes them to the patient's row
/// (<see cref="Domain.Patients.Patient.RecordSummary"/>), with the record version they belong to.
/// </summary>
public sealed record StoredRecordSummary(long RecordVersion, IReadOnlyList<CategoryTally> Categories, JsonElement? Demographics)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>The stored summary when it is of <paramref name="recordVersion"/>; null when absent or of another version.</summary>
    public static StoredRecordSummary? Read(string? json, long recordVersion) =>
        json is null ? null : JsonSerializer.Deserialize<StoredRecordSummary>(json, Json) is { } stored && stored.RecordVersion == recordVersion ? stored : null;
}
