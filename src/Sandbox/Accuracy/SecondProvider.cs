using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Aggregator.Sandbox.FhirData;
using Aggregator.Sandbox.Generator;

namespace Aggregator.Sandbox.Accuracy;

/// <summary>What one patient's second provider holds, and which of its resources state which fact.</summary>
/// <param name="Source">The bundle file (without extension) both providers' copies are named after.</param>
/// <param name="Original">Each clinical resource of the original file (<c>Type/id</c>) and the fact it states.</param>
/// <param name="Second">Each clinical resource of the second provider and the fact it states (a near miss is a fact of its own).</param>
/// <param name="Variations">How often each variation was applied.</param>
public sealed record PatientTruth(
    string Source,
    string OriginalPatientId,
    string SecondPatientId,
    IReadOnlyDictionary<string, string> Original,
    IReadOnlyDictionary<string, string> Second,
    IReadOnlyDictionary<string, int> Variations);

/// <summary>The ground truth written beside a second provider's bundles (<c>truth.json</c>).</summary>
public sealed record SecondProviderTruth(int Seed, IReadOnlyList<PatientTruth> Patients)
{
    public const string FileName = "truth.json";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static SecondProviderTruth Read(string path) =>
        JsonSerializer.Deserialize<SecondProviderTruth>(File.ReadAllBytes(path), Json) ?? throw new InvalidDataException($"{path}: no truth.");

    public void Write(string path) => File.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(this, Json));
}

/// <summary>
/// Builds, from real R4 bundles, a second provider for each patient: the same facts written the way another
/// EHR writes them — new ids; a local coding beside LOINC (either order); quantities converted to another
/// UCUM unit in floating point; every instant written in another UTC offset, some dates without their time;
/// optional references (encounter, performer) left out; displays in capitals, codings reordered, texts and
/// narratives dropped — with some facts left out and near misses added (the same test days later with
/// another value, a condition recurring a year later). Deterministic for a seed. The truth says which
/// resources state the same fact.
/// </summary>
public static partial class SecondProvider
{
    /// <summary>A local code system no other provider shares (an organisation's OID).</summary>
    public const string LocalSystem = "urn:oid:1.2.840.114350.1.13.16.2.7.5.737384.14";

    /// <summary>Resource types that are facts of the record (the rest support them and are copied with new ids only).</summary>
    private static readonly HashSet<string> Supporting = new(StringComparer.Ordinal)
    {
        "Patient", "Practitioner", "PractitionerRole", "Organization", "Location", "Medication", "Provenance", "Binary", "RelatedPerson",
    };

    /// <summary>Units a second provider may write a quantity in instead, and the factor from the original.</summary>
    private static readonly Dictionary<string, (string Unit, double Factor)> Conversions = new(StringComparer.Ordinal)
    {
        ["mg/dL"] = ("g/L", 0.01),
        ["g/dL"] = ("g/L", 10),
        ["kg"] = ("g", 1000),
        ["cm"] = ("m", 0.01),
        ["mmol/L"] = ("umol/L", 1000),
        ["g/L"] = ("mg/dL", 100),
    };

    /// <summary>The offsets a second provider writes its instants in: far enough from UTC to move calendar dates.</summary>
    private static readonly TimeSpan[] Offsets = [TimeSpan.FromHours(-10), TimeSpan.FromHours(-7), TimeSpan.FromHours(5.5), TimeSpan.FromHours(9), TimeSpan.FromHours(13)];

    private static readonly string[] OptionalReferences = ["encounter", "context", "performer", "requester", "asserter", "recorder", "participant", "serviceProvider"];

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex InstantPattern();

    /// <param name="from">A folder of R4 bundles, or a data folder with an <c>r4</c> subfolder.</param>
    /// <param name="to">Where to write <c>r4/{file}.json</c> and <c>truth.json</c> (created).</param>
    /// <param name="omittedPercent">The share of facts the second provider does not have.</param>
    public static SecondProviderTruth Write(string from, string to, int seed, int omittedPercent = 8)
    {
        var folder = Directory.Exists(Path.Combine(from, "r4")) ? Path.Combine(from, "r4") : from;
        var output = Path.Combine(to, "r4");
        Directory.CreateDirectory(output);
        var patients = new List<PatientTruth>();
        foreach (var file in Directory.GetFiles(folder, "*.json").Order(StringComparer.Ordinal))
        {
            var bundle = BundleReader.Read(file);
            if (bundle.SinglePatientId is null)
            {
                continue; // a directory of organisations or practitioners: no patient to see twice
            }

            var (resources, truth) = Vary(bundle, seed, omittedPercent);
            var written = new JsonObject
            {
                ["resourceType"] = "Bundle",
                ["type"] = "collection",
                ["entry"] = new JsonArray([.. resources.Select(r => (JsonNode)new JsonObject { ["resource"] = r })]),
            };
            File.WriteAllText(Path.Combine(output, bundle.Source + ".json"), written.ToJsonString());
            patients.Add(truth);
        }

        var result = new SecondProviderTruth(seed, patients);
        result.Write(Path.Combine(to, SecondProviderTruth.FileName));
        return result;
    }

    private static (List<JsonObject> Resources, PatientTruth Truth) Vary(LoadedBundle bundle, int seed, int omittedPercent)
    {
        var random = SeededRandom.For(seed, bundle.Source);
        var offset = random.Pick(Offsets);
        var ids = bundle.Resources.ToDictionary(Key, r => NewId(seed, bundle.Source, Key(r)), StringComparer.Ordinal);
        var original = new Dictionary<string, string>(StringComparer.Ordinal);
        var second = new Dictionary<string, string>(StringComparer.Ordinal);
        var variations = new SortedDictionary<string, int>(StringComparer.Ordinal);
        void Count(string variation) => variations[variation] = variations.GetValueOrDefault(variation) + 1;

        var resources = new List<JsonObject>();
        foreach (var resource in bundle.Resources)
        {
            var key = Key(resource);
            var type = ResourceJson.TypeOf(resource)!;
            var fact = Supporting.Contains(type) ? null : key;
            if (fact is not null)
            {
                original[key] = fact;
                if (random.Chance(omittedPercent))
                {
                    Count("omitted");
                    continue;
                }
            }

            var copy = (JsonObject)resource.DeepClone();
            copy["id"] = ids[key];
            ResourceJson.RewriteReferences(copy, reference => ids.TryGetValue(reference, out var id) ? $"{reference.Split('/')[0]}/{id}" : null);
            if (fact is not null)
            {
                Disguise(copy, type, random, Count);
                second[$"{type}/{ids[key]}"] = fact;
            }

            // After the disguise, which dates some instants where they happened: the event's place sets its calendar date.
            WriteInstantsIn(copy, offset);
            resources.Add(copy);

            if (fact is not null && NearMiss(copy, type, random) is { } near)
            {
                near["id"] = NewId(seed, bundle.Source, "near:" + key);
                Count("near-miss");
                second[$"{type}/{ResourceJson.IdOf(near)}"] = "near:" + key;
                resources.Add(near);
            }
        }

        var patientKey = "Patient/" + bundle.SinglePatientId;
        return (resources, new PatientTruth(bundle.Source, bundle.SinglePatientId!, ids[patientKey], original, second, variations));
    }

    /// <summary>The ways another EHR writes the same fact.</summary>
    private static void Disguise(JsonObject resource, string type, SeededRandom random, Action<string> count)
    {
        resource.Remove("text");
        var concept = CodeOf(resource, type);
        if (concept?["coding"] is JsonArray codings)
        {
            if (type == "Observation" && random.Chance(60) && codings.Count > 0)
            {
                var code = ResourceJson.StringOf(codings[0]?["code"]) ?? "x";
                var local = new JsonObject { ["system"] = LocalSystem, ["code"] = "L" + code.Replace("-", "", StringComparison.Ordinal), ["display"] = "LOCAL " + ResourceJson.StringOf(codings[0]?["display"]) };
                codings.Insert(random.Chance(50) ? 0 : codings.Count, local);
                count("local coding");
            }

            if (codings.Count > 1 && random.Chance(50))
            {
                var reversed = codings.Select(c => c!.DeepClone()).Reverse().ToList();
                codings.Clear();
                reversed.ForEach(codings.Add);
                count("coding order");
            }

            if (random.Chance(30))
            {
                foreach (var coding in codings.OfType<JsonObject>())
                {
                    if (ResourceJson.StringOf(coding["display"]) is { } display)
                    {
                        coding["display"] = display.ToUpperInvariant();
                    }
                }

                count("display in capitals");
            }

            if (concept.ContainsKey("text") && random.Chance(50))
            {
                concept.Remove("text");
                count("no text");
            }
        }

        if (resource["valueQuantity"] is JsonObject quantity && random.Chance(50) && ConvertUnit(quantity))
        {
            count("unit converted");
        }

        if (type is "Condition" or "Immunization" or "MedicationRequest" && random.Chance(40))
        {
            foreach (var field in new[] { "onsetDateTime", "occurrenceDateTime", "authoredOn" })
            {
                if (ResourceJson.StringOf(resource[field]) is { Length: > 10 } instant
                    && DateTimeOffset.TryParse(instant, CultureInfo.InvariantCulture, DateTimeStyles.None, out var at))
                {
                    // A date without its time: the date where the event was written down, or (at some EHRs) in UTC.
                    var date = random.Chance(50) ? at.Date : at.UtcDateTime.Date;
                    resource[field] = date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                    count("date without time");
                }
            }
        }

        foreach (var name in OptionalReferences)
        {
            if (resource.ContainsKey(name) && random.Chance(40))
            {
                resource.Remove(name);
                count("optional reference dropped");
            }
        }

        foreach (var optional in new[] { "referenceRange", "interpretation", "note", "reasonReference" })
        {
            if (resource.ContainsKey(optional) && random.Chance(30))
            {
                resource.Remove(optional);
                count("optional field dropped");
            }
        }
    }

    /// <summary>A fact alike but not the same: the same test days later with another value; a condition recurring a year later.</summary>
    private static JsonObject? NearMiss(JsonObject resource, string type, SeededRandom random)
    {
        if (type == "Observation" && resource["valueQuantity"] is JsonObject && random.Chance(5)
            && ResourceJson.StringOf(resource["effectiveDateTime"]) is { } effective)
        {
            var near = (JsonObject)resource.DeepClone();
            near.Remove("identifier"); // another test: it has an identifier of its own, or none
            near["effectiveDateTime"] = Shift(effective, TimeSpan.FromDays(random.Next(3, 11)));
            var quantity = (JsonObject)near["valueQuantity"]!;
            if (quantity["value"] is JsonValue value && value.TryGetValue<decimal>(out var number))
            {
                quantity["value"] = Math.Round(number * 1.2m + 1, 2);
            }

            return near;
        }

        if (type == "Condition" && random.Chance(30) && ResourceJson.StringOf(resource["onsetDateTime"]) is { } onset)
        {
            var near = (JsonObject)resource.DeepClone();
            near.Remove("identifier");
            near["onsetDateTime"] = Shift(onset, TimeSpan.FromDays(365));
            near.Remove("abatementDateTime");
            return near;
        }

        return null;
    }

    private static string Shift(string dateTime, TimeSpan by) =>
        dateTime.Length <= 10
            ? DateTime.ParseExact(dateTime, "yyyy-MM-dd", CultureInfo.InvariantCulture).Add(by).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
            : DateTimeOffset.Parse(dateTime, CultureInfo.InvariantCulture).Add(by).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    /// <summary>Converts a UCUM quantity in floating point, as a system that stores doubles does (1.7999999999999998 g/L).</summary>
    private static bool ConvertUnit(JsonObject quantity)
    {
        var code = ResourceJson.StringOf(quantity["code"]) ?? ResourceJson.StringOf(quantity["unit"]);
        if (code is null || !Conversions.TryGetValue(code, out var conversion) || quantity["value"] is not JsonValue value
            || !value.TryGetValue<decimal>(out var number))
        {
            return false;
        }

        var converted = (double)number * conversion.Factor;
        quantity["value"] = JsonNode.Parse(converted.ToString("R", CultureInfo.InvariantCulture));
        quantity["unit"] = conversion.Unit;
        quantity["code"] = conversion.Unit;
        quantity["system"] = "http://unitsofmeasure.org";
        return true;
    }

    /// <summary>Writes every instant of the resource (except its server metadata) as the same instant in <paramref name="offset"/>.</summary>
    private static void WriteInstantsIn(JsonNode? node, TimeSpan offset)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var name in obj.Select(p => p.Key).Where(n => n != "meta").ToList())
                {
                    if (obj[name] is JsonValue value && value.TryGetValue<string>(out var text) && InstantPattern().IsMatch(text)
                        && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var at))
                    {
                        obj[name] = at.ToOffset(offset).ToString(at.Millisecond == 0 ? "yyyy-MM-dd'T'HH:mm:sszzz" : "yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);
                    }
                    else
                    {
                        WriteInstantsIn(obj[name], offset);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    WriteInstantsIn(item, offset);
                }

                break;
        }
    }

    private static JsonObject? CodeOf(JsonObject resource, string type) => type switch
    {
        "Immunization" => resource["vaccineCode"] as JsonObject,
        "MedicationRequest" => resource["medicationCodeableConcept"] as JsonObject,
        "Encounter" => (resource["type"] as JsonArray)?.FirstOrDefault() as JsonObject,
        "CarePlan" or "CareTeam" => null,
        _ => resource["code"] as JsonObject,
    };

    private static string Key(JsonObject resource) => $"{ResourceJson.TypeOf(resource)}/{ResourceJson.IdOf(resource)}";

    /// <summary>A new id per resource, stable for the seed: the second provider's ids say nothing about the first's.</summary>
    private static string NewId(int seed, string source, string key) =>
        "s" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{seed}|{source}|{key}"))))[..31];
}
