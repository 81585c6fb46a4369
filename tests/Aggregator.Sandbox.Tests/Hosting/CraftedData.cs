using System.Text.Json.Nodes;

namespace Aggregator.Sandbox.Tests.Hosting;

/// <summary>
/// A data folder written by a test: one R4 transaction bundle shaped like Synthea's (<c>urn:uuid:</c> full URLs
/// and references), with what the samples lack: a Medication referenced by orders, a Provenance, and an entry
/// with neither id nor fullUrl.
/// </summary>
public sealed class CraftedData : IDisposable
{
    public const string PatientUuid = "6f1c2a4e-0000-4000-8000-000000000001";
    public const string MedicationUuid = "6f1c2a4e-0000-4000-8000-000000000002";
    public const int ObservationCount = 30;

    public CraftedData()
    {
        Directory = Path.Combine(Path.GetTempPath(), "sandbox-data-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "r4"));
        File.WriteAllText(Path.Combine(Directory, "r4", "Crafted_Person.json"), Bundle().ToJsonString());
    }

    public string Directory { get; }

    public static string OrderUuid(int n) => $"6f1c2a4e-0000-4000-8000-0000000001{n:00}";

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);

    private static JsonObject Bundle()
    {
        var entries = new JsonArray
        {
            Entry(PatientUuid, new JsonObject
            {
                ["resourceType"] = "Patient",
                ["name"] = new JsonArray(new JsonObject { ["family"] = "Crafted", ["given"] = new JsonArray("Ada") }),
            }),
            Entry(MedicationUuid, new JsonObject
            {
                ["resourceType"] = "Medication",
                ["code"] = Concept("http://www.nlm.nih.gov/research/umls/rxnorm", "197361"),
            }),
        };
        for (var n = 1; n <= 3; n++)
        {
            entries.Add(Entry(OrderUuid(n), new JsonObject
            {
                ["resourceType"] = "MedicationRequest",
                ["status"] = "active",
                ["intent"] = "order",
                ["medicationReference"] = Reference(MedicationUuid),
                ["subject"] = Reference(PatientUuid),
                ["authoredOn"] = $"2021-0{n}-01",
            }));
        }

        entries.Add(Entry("6f1c2a4e-0000-4000-8000-000000000300", new JsonObject
        {
            ["resourceType"] = "Provenance",
            ["target"] = new JsonArray(Reference(OrderUuid(1))),
            ["recorded"] = "2021-01-01T00:00:00Z",
        }));
        for (var n = 0; n < ObservationCount; n++)
        {
            entries.Add(Entry($"6f1c2a4e-0000-4000-8000-0000000004{n:00}", new JsonObject
            {
                ["resourceType"] = "Observation",
                ["status"] = "final",
                ["category"] = new JsonArray(Concept("http://terminology.hl7.org/CodeSystem/observation-category", "laboratory")),
                ["code"] = Concept("http://loinc.org", "2345-7"),
                ["subject"] = Reference(PatientUuid),
                ["effectiveDateTime"] = $"2020-01-{n + 1:00}T08:00:00Z",
            }));
        }

        // Neither id nor fullUrl, as some DSTU2 Synthea entries: the server must still give it a stable id.
        entries.Add(new JsonObject
        {
            ["resource"] = new JsonObject
            {
                ["resourceType"] = "Goal",
                ["lifecycleStatus"] = "active",
                ["description"] = new JsonObject { ["text"] = "Walk daily" },
                ["subject"] = Reference(PatientUuid),
            },
            ["request"] = new JsonObject { ["method"] = "POST", ["url"] = "Goal" },
        });

        return new JsonObject { ["resourceType"] = "Bundle", ["type"] = "transaction", ["entry"] = entries };
    }

    private static JsonObject Entry(string uuid, JsonObject resource) => new()
    {
        ["fullUrl"] = $"urn:uuid:{uuid}",
        ["resource"] = resource,
        ["request"] = new JsonObject { ["method"] = "POST", ["url"] = (string)resource["resourceType"]! },
    };

    private static JsonObject Reference(string uuid) => new() { ["reference"] = $"urn:uuid:{uuid}" };

    private static JsonObject Concept(string system, string code) =>
        new() { ["coding"] = new JsonArray(new JsonObject { ["system"] = system, ["code"] = code }) };
}
