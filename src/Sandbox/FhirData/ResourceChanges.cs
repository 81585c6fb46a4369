using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Aggregator.Sandbox.Personas;

namespace Aggregator.Sandbox.FhirData;

public enum ChangeOutcome
{
    Created,
    Replaced,
    Deleted,
    Invalid,
    NotFound,
    Gone,
    Conflict,
}

public sealed record ChangeResult(ChangeOutcome Outcome, StoredResource? Resource = null, string? Problem = null);

/// <summary>
/// Adds, replaces and deletes a base's resources (the test API's data mutation). Every change stamps a new
/// <c>meta.versionId</c> and a <c>meta.lastUpdated</c> of now, strictly later than the previous change, so
/// <c>_lastUpdated</c> searches see it.
/// </summary>
public sealed partial class ResourceChanges(FhirStore store, TimeProvider time)
{
    private long _lastStampTicks;

    [GeneratedRegex("^[A-Z][A-Za-z]{1,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex TypePattern();

    public ChangeResult Create(FhirBase fhirBase, string patientId, JsonObject resource) => store.Change(fhirBase, dataset =>
    {
        if (Invalid(resource, expectedType: null) is { } problem)
        {
            return (dataset, new ChangeResult(ChangeOutcome.Invalid, Problem: problem));
        }

        var type = ResourceJson.TypeOf(resource)!;
        if (type == "Patient")
        {
            return (dataset, new ChangeResult(ChangeOutcome.Invalid, Problem: "Patients are not added here; change one with PUT."));
        }

        if (dataset.Find("Patient", patientId) is null)
        {
            return (dataset, new ChangeResult(ChangeOutcome.NotFound, Problem: $"Patient/{patientId} is not known at this base."));
        }

        var id = ResourceJson.IdOf(resource);
        if (id is not null && dataset.Find(type, id) is not null)
        {
            return (dataset, new ChangeResult(ChangeOutcome.Conflict, Problem: $"{type}/{id} exists already; replace it with PUT."));
        }

        var copy = (JsonObject)resource.DeepClone();
        copy["id"] = id ?? fhirBase.Persona.Options.IdPrefix + Guid.NewGuid().ToString("D");
        Stamp(copy, "1");
        var stored = ResourceIndexer.Index(copy, patientId);
        if (stored.PatientId is not null && stored.PatientId != patientId)
        {
            return (dataset, new ChangeResult(ChangeOutcome.Invalid, Problem: $"The resource names another patient ({stored.PatientId})."));
        }

        return (dataset.With(stored), new ChangeResult(ChangeOutcome.Created, stored));
    });

    public ChangeResult Replace(FhirBase fhirBase, string type, string id, JsonObject resource) => store.Change(fhirBase, dataset =>
    {
        if (Invalid(resource, type) is { } problem)
        {
            return (dataset, new ChangeResult(ChangeOutcome.Invalid, Problem: problem));
        }

        if (ResourceJson.IdOf(resource) is { } bodyId && bodyId != id)
        {
            return (dataset, new ChangeResult(ChangeOutcome.Invalid, Problem: $"The body's id ({bodyId}) is not {id}."));
        }

        if (dataset.Find(type, id) is not { } existing)
        {
            return (dataset, Missing(dataset, type, id));
        }

        var previousVersion = ResourceJson.StringOf(ResourceJson.ParseObject(existing.Json)["meta"]?["versionId"]);
        var version = int.TryParse(previousVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number + 1 : 2;
        var copy = (JsonObject)resource.DeepClone();
        copy["id"] = id;
        Stamp(copy, version.ToString(CultureInfo.InvariantCulture));
        var stored = ResourceIndexer.Index(copy, existing.PatientId);
        return (dataset.With(stored), new ChangeResult(ChangeOutcome.Replaced, stored));
    });

    public ChangeResult Delete(FhirBase fhirBase, string type, string id) => store.Change(fhirBase, dataset =>
        dataset.Find(type, id) is { } existing
            ? (dataset.Without(existing, NextStamp()), new ChangeResult(ChangeOutcome.Deleted, existing))
            : (dataset, Missing(dataset, type, id)));

    private static ChangeResult Missing(FhirDataset dataset, string type, string id) => dataset.DeletedAt(type, id) is not null
        ? new ChangeResult(ChangeOutcome.Gone, Problem: $"{type}/{id} has been deleted.")
        : new ChangeResult(ChangeOutcome.NotFound, Problem: $"{type}/{id} is not known at this base.");

    private static string? Invalid(JsonObject resource, string? expectedType)
    {
        var type = ResourceJson.TypeOf(resource);
        if (type is null || !TypePattern().IsMatch(type))
        {
            return "The body must be a FHIR resource with a resourceType.";
        }

        if (expectedType is not null && type != expectedType)
        {
            return $"The body is a {type}, not a {expectedType}.";
        }

        return resource["id"] is not null && !BundleReader.IsValidId(ResourceJson.IdOf(resource))
            ? "The id is not a valid FHIR id."
            : null;
    }

    private void Stamp(JsonObject resource, string versionId)
    {
        if (resource["meta"] is not JsonObject meta)
        {
            meta = [];
            resource["meta"] = meta;
        }

        meta["versionId"] = versionId;
        meta["lastUpdated"] = FhirDateTime.FormatInstant(NextStamp());
    }

    /// <summary>Now, to the millisecond (as written), and later than any earlier change.</summary>
    private DateTimeOffset NextStamp()
    {
        var ticks = time.GetUtcNow().UtcTicks;
        ticks -= ticks % TimeSpan.TicksPerMillisecond;
        _lastStampTicks = Math.Max(ticks, _lastStampTicks + TimeSpan.TicksPerMillisecond);
        return new DateTimeOffset(_lastStampTicks, TimeSpan.Zero);
    }
}
