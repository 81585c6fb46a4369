using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aggregator.Domain.Records;

/// <summary>
/// Reads one stored R4 resource as a clinical fact: its category, codes, clinically meaningful
/// time, measured values (normalised), status and the fields the API shows. Pure; null for
/// supporting resources (Practitioner, Organization, Medication, Binary, ...), which are not facts.
/// </summary>
public static class ClinicalNormalizer
{
    private static readonly HashSet<string> RetractedStatuses = new(StringComparer.Ordinal) { "entered-in-error", "refuted" };

    /// <param name="resolve">Finds a referenced resource of the same source (e.g. a Medication), or null.</param>
    /// <param name="shared">Where the values many facts repeat are kept once (a rebuild's), or null.</param>
    public static ClinicalItem? Normalize(SourceRef source, JsonElement resource, Func<string, JsonElement?>? resolve = null, SharedValues? shared = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        var type = resource.Str("resourceType");
        if (type is null || RecordCategory.IsSupporting(type))
        {
            return null;
        }

        var category = RecordCategory.For(type, resource.Arr("category").SelectMany(c => c.Arr("coding")).Select(c => c.Str("code") ?? ""));
        var fields = new JsonObject { ["resourceType"] = type };
        var concept = ConceptOf(type, resource, resolve);
        var codes = FhirRead.Concepts(concept);
        var text = FhirRead.TextOf(concept) ?? resource.Str("description") ?? resource.Obj("description").Str("text") ?? resource.Str("title");
        if (type is "CarePlan" or "CareTeam")
        {
            // Their categories mix a generic US Core category with the one that says what the plan is: only the latter identifies it.
            codes = [.. resource.Arr("category").SelectMany(FhirRead.Concepts).Where(c => !c.System.StartsWith("http://hl7.org/fhir/us/core/CodeSystem/", StringComparison.Ordinal))];
            text = resource.Str("title") ?? resource.Str("name") ?? resource.Arr("category").Select(FhirRead.TextOf).LastOrDefault(t => t is not null) ?? resource.Str("description");
        }
        var time = TimeOf(type, resource);
        var status = resource.Str("status") ?? FirstCode(resource.Obj("clinicalStatus")) ?? resource.Str("lifecycleStatus");
        var verification = FirstCode(resource.Obj("verificationStatus"));
        var values = new List<(string, NormalizedValue)>();

        if (codes.Count > 0)
        {
            fields["code"] = CodeNode(PrimaryCode(codes));
            fields["codes"] = new JsonArray([.. codes.Select(CodeNode)]);
        }

        fields["display"] = text ?? codes.Select(c => c.Display).FirstOrDefault(d => d is not null);
        fields["status"] = status;
        if (time is { } t)
        {
            fields["effective"] = t.HasTime ? t.At.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture) : t.DateKey;
        }

        switch (type)
        {
            case "Observation":
                AddObservation(resource, fields, values);
                break;
            case "Condition":
                fields["clinicalStatus"] = FirstCode(resource.Obj("clinicalStatus"));
                fields["verificationStatus"] = verification;
                fields["onset"] = resource.Str("onsetDateTime") ?? resource.Obj("onsetPeriod").Str("start") ?? resource.Str("onsetString");
                fields["abatement"] = resource.Str("abatementDateTime") ?? resource.Obj("abatementPeriod").Str("start") ?? resource.Str("abatementString");
                fields["recorded"] = resource.Str("recordedDate");
                break;
            case "MedicationRequest" or "MedicationStatement" or "MedicationDispense" or "MedicationAdministration":
                fields["intent"] = resource.Str("intent");
                fields["authoredOn"] = resource.Str("authoredOn");
                fields["dose"] = resource.Arr("dosageInstruction").Concat(resource.Arr("dosage")).Select(d => d.Str("text") ?? d.Str("patientInstruction")).FirstOrDefault(d => d is not null);
                break;
            case "AllergyIntolerance":
                fields["clinicalStatus"] = FirstCode(resource.Obj("clinicalStatus"));
                fields["verificationStatus"] = verification;
                fields["criticality"] = resource.Str("criticality");
                fields["reactions"] = new JsonArray([.. resource.Arr("reaction").SelectMany(r => r.Arr("manifestation")).Select(m => (JsonNode?)FhirRead.TextOf(m))]);
                break;
            case "Immunization":
                fields["primarySource"] = resource.TryGetProperty("primarySource", out var primary) && primary.ValueKind is JsonValueKind.True or JsonValueKind.False ? primary.GetBoolean() : null;
                fields["lotNumber"] = resource.Str("lotNumber");
                break;
            case "Encounter":
                fields["class"] = resource.Obj("class").Str("code");
                fields["start"] = resource.Obj("period").Str("start");
                fields["end"] = resource.Obj("period").Str("end");
                fields["reason"] = resource.Arr("reasonCode").Select(FhirRead.TextOf).FirstOrDefault(r => r is not null);
                break;
            case "DiagnosticReport":
                fields["issued"] = resource.Str("issued");
                fields["conclusion"] = resource.Str("conclusion");
                fields["results"] = resource.Arr("result").Count();
                fields["presentedForm"] = Attachments(resource.Arr("presentedForm"));
                break;
            case "DocumentReference":
                fields["description"] = resource.Str("description");
                fields["attachments"] = Attachments(resource.Arr("content").Select(c => c.Obj("attachment")));
                break;
            case "Patient":
                AddDemographics(resource, fields);
                break;
            default:
                break;
        }

        return new ClinicalItem
        {
            Category = category,
            End = type switch
            {
                "Encounter" => resource.FirstTime("period.end"),
                "Procedure" => resource.FirstTime("performedPeriod.end"),
                _ => null,
            },
            Qualifiers = Qualifiers(type, resource, resolve),
            Results = type == "DiagnosticReport" ? ResultValues(resource, resolve) : [],
            Source = source,
            Codes = shared?.Concepts(codes) ?? codes,
            Text = shared?.Text(text) ?? text,
            Time = time,
            Status = shared?.Text(status) ?? status,
            Retracted = (status is not null && RetractedStatuses.Contains(status)) || (verification is not null && RetractedStatuses.Contains(verification)),
            Identifiers = [.. resource.Arr("identifier").Where(i => i.Str("system") is not null && i.Str("value") is not null).Select(i => FhirRead.System(i.Str("system")) + "|" + i.Str("value"))],
            Values = shared?.Values(values) ?? values,
            Fields = fields,
        };
    }

    /// <summary>The coded aspects that tell two encounters or procedures of one code at one moment apart.</summary>
    private static IReadOnlyDictionary<string, IReadOnlyList<string>> Qualifiers(string type, JsonElement resource, Func<string, JsonElement?>? resolve)
    {
        var qualifiers = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        void Add(string aspect, IEnumerable<JsonElement> concepts)
        {
            var values = concepts.SelectMany(FhirRead.Concepts).Select(c => c.System + "|" + c.Code).Distinct(StringComparer.Ordinal).ToList();
            if (values.Count > 0)
            {
                qualifiers[aspect] = values;
            }
        }

        switch (type)
        {
            case "Encounter" or "Procedure":
                Add("reason", resource.Arr("reasonCode"));
                Add("bodySite", resource.Arr("bodySite"));
                break;
            case "Claim" or "ExplanationOfBenefit":
                // Two claims of one type for one visit differ in what they bill: the services, the prescription, the total.
                Add("service", resource.Arr("item").Select(i => i.Obj("productOrService")));
                if (resource.Obj("prescription").Str("reference") is { } prescription && resolve?.Invoke(prescription) is { } order)
                {
                    Add("prescription", [ConceptOf(order.Str("resourceType") ?? "", order, resolve)]);
                }

                if (resource.Obj("total").Decimal("value") is { } total)
                {
                    qualifiers["total"] = [Math.Round(total, 2).ToString("F2", CultureInfo.InvariantCulture) + " " + resource.Obj("total").Str("currency")];
                }

                break;
            default:
                break;
        }

        // Most facts have none: one shared empty set, not one more per item of a large record.
        return qualifiers.Count == 0 ? System.Collections.ObjectModel.ReadOnlyDictionary<string, IReadOnlyList<string>>.Empty : qualifiers;
    }

    /// <summary>The quantities of the Observations a report's results point to, by each result's code.</summary>
    private static List<(string, NormalizedValue)> ResultValues(JsonElement report, Func<string, JsonElement?>? resolve)
    {
        var values = new List<(string, NormalizedValue)>();
        foreach (var reference in report.Arr("result").Select(r => r.Str("reference")).OfType<string>())
        {
            if (resolve?.Invoke(reference) is not { } result)
            {
                continue;
            }

            var quantity = result.Obj("valueQuantity");
            var code = FhirRead.Concepts(result.Obj("code")).Where(c => RecordMerger.IsStandardSystem(c.System)).OrderBy(c => SystemRank(c.System)).FirstOrDefault();
            if (code is not null && quantity.Decimal("value") is { } value)
            {
                values.Add((code.System + "|" + code.Code, UnitNormalizer.Normalize(value, quantity.Str("code") ?? quantity.Str("unit"), quantity.Str("system"))));
            }
        }

        return values;
    }

    /// <summary>The element that names what the fact is about, per type.</summary>
    private static JsonElement ConceptOf(string type, JsonElement resource, Func<string, JsonElement?>? resolve)
    {
        switch (type)
        {
            case "Immunization":
                return resource.Obj("vaccineCode");
            case "MedicationRequest" or "MedicationStatement" or "MedicationDispense" or "MedicationAdministration":
                var direct = resource.Obj("medicationCodeableConcept");
                if (direct.ValueKind == JsonValueKind.Object)
                {
                    return direct;
                }

                var reference = resource.Obj("medicationReference").Str("reference");
                if (reference is not null && reference.StartsWith('#'))
                {
                    var contained = resource.Arr("contained").FirstOrDefault(c => "#" + c.Str("id") == reference);
                    return contained.Obj("code");
                }

                return reference is not null && resolve?.Invoke(reference) is { } medication ? medication.Obj("code") : default;
            case "AllergyIntolerance" or "Condition" or "Observation" or "Procedure" or "DiagnosticReport":
                return resource.Obj("code");
            case "Encounter" or "DocumentReference" or "Device" or "Coverage" or "Claim" or "ExplanationOfBenefit":
                var types = resource.Arr("type").FirstOrDefault();
                return types.ValueKind == JsonValueKind.Object ? types : resource.Obj("type");
            case "CarePlan" or "CareTeam":
                return resource.Arr("category").FirstOrDefault();
            case "Goal":
                return resource.Obj("description");
            case "ImagingStudy":
                return resource.Arr("procedureCode").FirstOrDefault();
            default:
                return resource.Obj("code");
        }
    }

    private static ClinicalTime? TimeOf(string type, JsonElement resource) => type switch
    {
        "Observation" => resource.FirstTime("effectiveDateTime", "effectiveInstant", "effectivePeriod.start", "issued"),
        "Condition" => resource.FirstTime("onsetDateTime", "onsetPeriod.start", "recordedDate"),
        "AllergyIntolerance" => resource.FirstTime("onsetDateTime", "onsetPeriod.start", "recordedDate"),
        "MedicationRequest" => resource.FirstTime("authoredOn", "dispenseRequest.validityPeriod.start"),
        "MedicationStatement" => resource.FirstTime("effectiveDateTime", "effectivePeriod.start", "dateAsserted"),
        "MedicationDispense" => resource.FirstTime("whenHandedOver", "whenPrepared"),
        "MedicationAdministration" => resource.FirstTime("effectiveDateTime", "effectivePeriod.start"),
        "Immunization" => resource.FirstTime("occurrenceDateTime", "recorded"),
        "Procedure" => resource.FirstTime("performedDateTime", "performedPeriod.start"),
        "Encounter" => resource.FirstTime("period.start"),
        "DiagnosticReport" => resource.FirstTime("effectiveDateTime", "effectivePeriod.start", "issued"),
        "DocumentReference" => resource.FirstTime("date", "context.period.start"),
        "CarePlan" => resource.FirstTime("period.start", "created"),
        "Goal" => resource.FirstTime("startDate", "statusDate"),
        "Claim" or "ExplanationOfBenefit" => resource.FirstTime("billablePeriod.start", "created"),
        "Coverage" or "CareTeam" => resource.FirstTime("period.start"),
        "ImagingStudy" => resource.FirstTime("started"),
        "Patient" => null,
        _ => resource.FirstTime("effectiveDateTime", "occurrenceDateTime", "authored", "date", "recorded", "period.start", "created"),
    };

    private static void AddObservation(JsonElement resource, JsonObject fields, List<(string, NormalizedValue)> values)
    {
        var quantity = resource.Obj("valueQuantity");
        if (quantity.Decimal("value") is { } value)
        {
            var normalized = UnitNormalizer.Normalize(value, quantity.Str("code") ?? quantity.Str("unit"), quantity.Str("system"));
            values.Add(("value", normalized));
            fields["value"] = new JsonObject { ["value"] = value, ["unit"] = quantity.Str("unit") ?? quantity.Str("code") };
            fields["normalized"] = new JsonObject { ["value"] = normalized.Value, ["unit"] = normalized.Unit };
        }
        else
        {
            fields["value"] = FhirRead.TextOf(resource.Obj("valueCodeableConcept")) ?? resource.Str("valueString");
        }

        var components = new JsonArray();
        foreach (var component in resource.Arr("component"))
        {
            var code = FhirRead.Concepts(component.Obj("code")).FirstOrDefault();
            var componentQuantity = component.Obj("valueQuantity");
            var node = new JsonObject { ["code"] = code is null ? null : CodeNode(code), ["display"] = FhirRead.TextOf(component.Obj("code")) };
            if (componentQuantity.Decimal("value") is { } componentValue)
            {
                var normalized = UnitNormalizer.Normalize(componentValue, componentQuantity.Str("code") ?? componentQuantity.Str("unit"), componentQuantity.Str("system"));
                values.Add((code is null ? "component" : code.System + "|" + code.Code, normalized));
                node["value"] = componentValue;
                node["unit"] = componentQuantity.Str("unit") ?? componentQuantity.Str("code");
            }

            components.Add(node);
        }

        if (components.Count > 0)
        {
            fields["components"] = components;
        }

        fields["referenceRange"] = new JsonArray([.. resource.Arr("referenceRange").Select(r => (JsonNode)new JsonObject
        {
            ["low"] = r.Obj("low").Decimal("value"),
            ["high"] = r.Obj("high").Decimal("value"),
            ["unit"] = r.Obj("low").Str("unit") ?? r.Obj("high").Str("unit"),
            ["text"] = r.Str("text"),
        })]);
        fields["interpretation"] = resource.Arr("interpretation").Select(FhirRead.TextOf).FirstOrDefault(i => i is not null)
            ?? resource.Arr("interpretation").SelectMany(i => i.Arr("coding")).Select(c => c.Str("code")).FirstOrDefault();
    }

    private static void AddDemographics(JsonElement resource, JsonObject fields)
    {
        fields["names"] = new JsonArray([.. resource.Arr("name").Select(n => (JsonNode?)(n.Str("text")
            ?? string.Join(' ', n.Arr("given").Select(g => g.GetString()).Append(n.Str("family")).Where(p => !string.IsNullOrEmpty(p)))))]);
        fields["birthDate"] = resource.Str("birthDate");
        fields["gender"] = resource.Str("gender");
        fields["addresses"] = new JsonArray([.. resource.Arr("address").Select(a => (JsonNode?)string.Join(", ",
            a.Arr("line").Select(l => l.GetString()).Append(a.Str("city")).Append(a.Str("state")).Append(a.Str("postalCode")).Where(p => !string.IsNullOrEmpty(p))))]);
        fields["phones"] = new JsonArray([.. resource.Arr("telecom").Where(t => t.Str("system") == "phone").Select(t => (JsonNode?)t.Str("value"))]);
        fields["identifiers"] = new JsonArray([.. resource.Arr("identifier").Select(i => (JsonNode?)((i.Str("system") ?? "") + "|" + i.Str("value")))]);
    }

    private static JsonArray Attachments(IEnumerable<JsonElement> attachments) =>
        new([.. attachments.Where(a => a.ValueKind == JsonValueKind.Object).Select(a => (JsonNode)new JsonObject
        {
            ["contentType"] = a.Str("contentType"),
            ["title"] = a.Str("title"),
            ["url"] = a.Str("url"),
            ["inline"] = a.TryGetProperty("data", out _),
            ["size"] = a.Decimal("size"),
        })]);

    private static string? FirstCode(JsonElement codeableConcept) =>
        codeableConcept.Arr("coding").Select(c => c.Str("code")).FirstOrDefault(c => c is not null) ?? codeableConcept.Str("text");

    /// <summary>The code a reader cares about first: LOINC, SNOMED CT, RxNorm, CVX, ICD-10-CM, then any.</summary>
    public static Concept PrimaryCode(IReadOnlyList<Concept> codes)
    {
        ArgumentNullException.ThrowIfNull(codes);
        return codes.OrderBy(c => SystemRank(c.System)).ThenBy(c => c.System, StringComparer.Ordinal).ThenBy(c => c.Code, StringComparer.Ordinal).First();
    }

    public static int SystemRank(string system) => system switch
    {
        "http://loinc.org" => 0,
        "http://snomed.info/sct" => 1,
        "http://www.nlm.nih.gov/research/umls/rxnorm" => 2,
        "http://hl7.org/fhir/sid/cvx" => 3,
        "http://hl7.org/fhir/sid/icd-10-cm" => 4,
        _ => 9,
    };

    private static JsonObject CodeNode(Concept code) => new() { ["system"] = code.System, ["code"] = code.Code, ["display"] = code.Display };
}
