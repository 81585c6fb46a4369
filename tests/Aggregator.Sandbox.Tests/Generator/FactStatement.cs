using System.Globalization;
using System.Text.Json.Nodes;

namespace Aggregator.Sandbox.Tests.Generator;

/// <summary>
/// What a resource says, in words that do not depend on the FHIR version: codes, dates, values, statuses. Two
/// renderings of one fact must give the same statement.
/// </summary>
public static class FactStatement
{
    public static string Of(JsonObject resource)
    {
        var type = (string)resource["resourceType"]!;
        return type switch
        {
            "Observation" => Join("observation", Codes(resource["code"]), Text(resource["effectiveDateTime"]), Quantity(resource["valueQuantity"]),
                string.Join(";", (resource["component"] as JsonArray ?? []).Select(c => Codes(c!["code"]) + "=" + Quantity(c["valueQuantity"])))),
            "Condition" => Join("condition", Codes(resource["code"]), Text(resource["code"]?["text"]), Text(resource["onsetDateTime"]),
                Text(resource["abatementDateTime"]), Status(resource["clinicalStatus"])),
            "MedicationRequest" => Join("medication", Codes(resource["medicationCodeableConcept"]), Text(resource["authoredOn"]), Text(resource["status"])),
            "MedicationOrder" => Join("medication", Codes(resource["medicationCodeableConcept"]), Text(resource["dateWritten"]), Text(resource["status"])),
            "AllergyIntolerance" => Join("allergy", Codes(resource["code"] ?? resource["substance"]), Text(resource["recordedDate"]),
                Text(resource["criticality"]) switch { "high" or "CRITH" => "high", _ => "low" }),
            "Immunization" => Join("immunization", Codes(resource["vaccineCode"]), Text(resource["occurrenceDateTime"] ?? resource["date"]), Text(resource["lotNumber"])),
            "Procedure" => Join("procedure", Codes(resource["code"]), Text(resource["performedPeriod"]?["start"]), Text(resource["performedPeriod"]?["end"])),
            "Encounter" => Join("encounter", string.Join(",", (resource["type"] as JsonArray ?? []).Select(Codes)),
                Text(resource["period"]?["start"]), Text(resource["period"]?["end"]),
                Text((resource["class"] as JsonObject)?["code"] ?? resource["class"]) switch { "EMER" or "emergency" => "emergency", _ => "ambulatory" }),
            "DiagnosticReport" => Join("report", Codes(resource["code"]), Text(resource["effectiveDateTime"]), Text(resource["issued"]),
                (resource["result"] as JsonArray ?? []).Count.ToString(CultureInfo.InvariantCulture)),
            "DocumentReference" => Join("document", Codes(resource["type"]), Text(resource["date"] ?? resource["indexed"]),
                Text(resource["content"]![0]!["attachment"]!["data"]) ?? Text(resource["content"]![0]!["attachment"]!["url"])),
            "CarePlan" => Join("careplan", string.Join(",", (resource["category"] as JsonArray ?? []).Select(Codes).Where(c => !c.Contains("careplan-category", StringComparison.Ordinal))),
                Text(resource["period"]?["start"]), string.Join(",", (resource["activity"] as JsonArray ?? []).Select(a => Codes(a!["detail"]?["code"])))),
            "Goal" => Join("goal", Text((resource["description"] as JsonObject)?["text"] ?? resource["description"]), Text(resource["startDate"]),
                Text(resource["target"]?[0]?["dueDate"] ?? resource["targetDate"])),
            _ => throw new InvalidOperationException($"No statement for {type}."),
        };
    }

    public static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    public static IEnumerable<(string System, string Code)> Codings(JsonNode? concept) =>
        (concept?["coding"] as JsonArray ?? []).Select(c => ((string)c!["system"]!, (string)c["code"]!));

    public static decimal Value(JsonObject observation) => (decimal)observation["valueQuantity"]!["value"]!;

    public static string Unit(JsonObject observation) => (string)observation["valueQuantity"]!["code"]!;

    private static string Codes(JsonNode? concept) =>
        string.Join(",", Codings(concept).Select(c => $"{c.System}|{c.Code}").Order(StringComparer.Ordinal));

    private static string? Status(JsonNode? node) => Text(node) ?? Text(node?["coding"]?[0]?["code"]);

    private static string Quantity(JsonNode? quantity) => quantity is null ? "" : $"{(decimal)quantity["value"]!} {Text(quantity["code"])}";

    private static string Join(params string?[] parts) => string.Join(" | ", parts.Select(p => p ?? "-"));
}
