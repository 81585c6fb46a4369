namespace Aggregator.Sandbox.FhirData;

/// <summary>A coded value a token search matches: <c>system|code</c>, <c>code</c> or <c>|code</c>.</summary>
public readonly record struct SearchToken(string? System, string Code);

/// <summary>One FHIR resource as served: its JSON bytes beside the few values searches need.</summary>
public sealed class StoredResource
{
    public required string Type { get; init; }

    public required string Id { get; init; }

    /// <summary>The patient whose compartment holds this resource, or null for shared resources.</summary>
    public string? PatientId { get; init; }

    public required DateTimeOffset LastUpdated { get; init; }

    /// <summary>The resource as compact UTF-8 JSON, written to responses as is.</summary>
    public required byte[] Json { get; init; }

    public IReadOnlyList<SearchToken> Categories { get; init; } = [];

    public IReadOnlyList<SearchToken> Codes { get; init; } = [];

    public IReadOnlyList<SearchToken> Statuses { get; init; } = [];

    public IReadOnlyList<SearchToken> Intents { get; init; } = [];

    /// <summary>The <c>Medication/id</c> a medication order points to, if any.</summary>
    public string? MedicationReference { get; init; }

    /// <summary>What a Provenance is about (<c>Type/id</c> references).</summary>
    public IReadOnlyList<string> Targets { get; init; } = [];

    public string Reference => $"{Type}/{Id}";
}

/// <summary>A patient's portal login at one persona and version, and where the patient came from.</summary>
public sealed record PatientAccount(
    string Persona,
    string FhirVersion,
    string PatientId,
    string PersonId,
    string Username,
    string Password,
    string Name,
    string Source);
