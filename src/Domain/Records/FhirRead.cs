using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aggregator.Domain.Records;

/// <summary>Small readers of R4 JSON datatypes, tolerant of what real servers send.</summary>
internal static class FhirRead
{
    public static string? Str(this JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static JsonElement Obj(this JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object ? value : default;

    public static IEnumerable<JsonElement> Arr(this JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray()
            : [];

    public static JsonNode? Node(this JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? JsonNode.Parse(value.GetRawText()) : null;

    /// <summary>Systems written differently by different servers mean the same: trailing slashes, https, urn:oid for the big ones.</summary>
    public static string System(string? system)
    {
        var s = (system ?? "").Trim().TrimEnd('/');
        if (s.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            s = "http://" + s["https://".Length..];
        }

        return s.ToLowerInvariant() switch
        {
            "urn:oid:2.16.840.1.113883.6.1" => "http://loinc.org",
            "urn:oid:2.16.840.1.113883.6.96" => "http://snomed.info/sct",
            "urn:oid:2.16.840.1.113883.6.88" => "http://www.nlm.nih.gov/research/umls/rxnorm",
            "urn:oid:2.16.840.1.113883.12.292" => "http://hl7.org/fhir/sid/cvx",
            "urn:oid:2.16.840.1.113883.6.90" => "http://hl7.org/fhir/sid/icd-10-cm",
            "http://hl7.org/fhir/sid/icd-10" => "http://hl7.org/fhir/sid/icd-10-cm",
            _ => s,
        };
    }

    public static List<Concept> Concepts(JsonElement codeableConcept) =>
        codeableConcept.Arr("coding")
            .Where(c => c.Str("code") is { Length: > 0 })
            .Select(c => new Concept(System(c.Str("system")), c.Str("code")!, c.Str("display")))
            .ToList();

    public static string? TextOf(JsonElement codeableConcept) =>
        codeableConcept.Str("text") ?? codeableConcept.Arr("coding").Select(c => c.Str("display")).FirstOrDefault(d => !string.IsNullOrWhiteSpace(d));

    public static ClinicalTime? Time(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        if (value.Length <= 10)
        {
            // A date (or year-month): its first day, as a date only.
            var padded = value.Length == 4 ? value + "-01-01" : value.Length == 7 ? value + "-01" : value;
            return DateTime.TryParseExact(padded, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var date)
                ? new ClinicalTime(new DateTimeOffset(date, TimeSpan.Zero), false)
                : null;
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant)
            ? new ClinicalTime(instant.ToUniversalTime(), true, instant.Offset)
            : null;
    }

    /// <summary>The first of several choice elements present (e.g. <c>effectiveDateTime</c>, <c>effectivePeriod.start</c>).</summary>
    public static ClinicalTime? FirstTime(this JsonElement resource, params string[] paths)
    {
        foreach (var path in paths)
        {
            var parts = path.Split('.');
            var current = resource;
            for (var i = 0; i < parts.Length - 1 && current.ValueKind == JsonValueKind.Object; i++)
            {
                current = current.Obj(parts[i]);
            }

            if (Time(current.Str(parts[^1])) is { } time)
            {
                return time;
            }
        }

        return null;
    }

    public static decimal? Decimal(this JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var d) ? d : null;
}
