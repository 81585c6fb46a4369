using System.Text.Json.Nodes;
using Aggregator.Sandbox.Tests.Hosting;

namespace Aggregator.Sandbox.Tests.Fhir;

/// <summary>Every sample file loads whole and comes back from the FHIR API as a client would ask for it.</summary>
public sealed class SampleLoadingTests(SamplesSandbox sandbox)
{
    private static readonly HashSet<string> SharedTypes = ["Organization", "Practitioner", "PractitionerRole", "Location", "Medication"];

    public static TheoryData<string, string> SampleFiles()
    {
        var data = new TheoryData<string, string>();
        foreach (var version in new[] { "r4", "dstu2" })
        {
            foreach (var file in FhirSamples.Files(version))
            {
                data.Add(version, Path.GetFileName(file));
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SampleFiles))]
    public async Task Each_patient_search_returns_exactly_the_files_resources_of_that_type(string version, string fileName)
    {
        var resources = ReadFile(version, fileName);
        var patients = resources.Where(r => (string?)r["resourceType"] == "Patient").ToList();
        var fhirBase = sandbox.Server.FhirBase("nextgen", version);

        foreach (var patient in patients)
        {
            var patientId = (string)patient["id"]!;
            using var client = await sandbox.PatientClientAsync("nextgen", version, patientId);
            var served = await client.GetJsonAsync(new Uri(fhirBase, $"Patient/{patientId}"));
            Assert.Equal(patient["name"]!.ToJsonString(), served["name"]!.ToJsonString());

            foreach (var group in resources.Where(IsClinical).GroupBy(r => (string)r["resourceType"]!))
            {
                var pages = await client.SearchAllPagesAsync(new Uri(fhirBase, $"{group.Key}?patient={patientId}&_count=200"));
                var found = pages.SelectMany(p => p.Matches()).ToList();
                Assert.True(group.Count() == found.Count, $"{fileName}: {group.Key} expected {group.Count()}, served {found.Count}");
                Assert.Equal(group.Count(), (int)pages[0]["total"]!);
                Assert.All(found, r => Assert.NotNull((string?)r["meta"]?["lastUpdated"]));
                Assert.All(found, r => Assert.False(string.IsNullOrEmpty((string?)r["id"])));

                var fileIds = group.Select(r => (string?)r["id"]).OfType<string>().Order().ToList();
                var servedIds = found.Select(r => (string)r["id"]!).ToHashSet();
                Assert.All(fileIds, id => Assert.Contains(id, servedIds));
            }
        }
    }

    [Theory]
    [MemberData(nameof(SampleFiles))]
    public async Task Organizations_and_practitioners_in_the_file_are_served_by_read(string version, string fileName)
    {
        var shared = ReadFile(version, fileName).Where(r => SharedTypes.Contains((string)r["resourceType"]!)).ToList();
        var anyPatient = (await sandbox.Server.TestPatientsAsync()).First(p => p.Persona == "nextgen" && string.Equals(p.FhirVersion, version, StringComparison.OrdinalIgnoreCase));
        using var client = await sandbox.PatientClientAsync("nextgen", version, anyPatient.PatientId);
        var fhirBase = sandbox.Server.FhirBase("nextgen", version);

        foreach (var resource in shared)
        {
            var path = $"{resource["resourceType"]}/{resource["id"]}";
            var served = await client.GetJsonAsync(new Uri(fhirBase, path));
            Assert.Equal((string?)resource["id"], (string?)served["id"]);
            Assert.NotNull((string?)served["meta"]?["lastUpdated"]);
        }
    }

    [Fact]
    public async Task References_between_resources_of_a_file_point_to_served_resources()
    {
        var file = FhirSamples.Files("r4").First(f => Path.GetFileName(f).StartsWith("Abdul_Koepp", StringComparison.Ordinal));
        var patientId = (string)ReadFile("r4", Path.GetFileName(file)).First(r => (string?)r["resourceType"] == "Patient")["id"]!;
        using var client = await sandbox.PatientClientAsync("nextgen", "r4", patientId);
        var fhirBase = sandbox.Server.FhirBase("nextgen", "r4");

        var encounters = await client.GetJsonAsync(new Uri(fhirBase, $"Encounter?patient={patientId}&_count=1"));
        var encounter = encounters.Matches().Single();
        Assert.Equal($"Patient/{patientId}", (string?)encounter["subject"]!["reference"]);
        var provider = (string)encounter["serviceProvider"]!["reference"]!;
        Assert.StartsWith("Organization/", provider, StringComparison.Ordinal);
        var organization = await client.GetJsonAsync(new Uri(fhirBase, provider));
        Assert.Equal("Organization", (string?)organization["resourceType"]);
    }

    private static bool IsClinical(JsonObject resource) =>
        (string?)resource["resourceType"] is { } type && type != "Patient" && !SharedTypes.Contains(type);

    private static List<JsonObject> ReadFile(string version, string fileName)
    {
        var bundle = JsonNode.Parse(File.ReadAllBytes(Path.Combine(FhirSamples.Directory, version, fileName)))!.AsObject();
        return bundle["entry"]!.AsArray().Select(e => e!["resource"]!.AsObject()).ToList();
    }
}
