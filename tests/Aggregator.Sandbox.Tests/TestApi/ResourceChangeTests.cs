using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Aggregator.Sandbox.Tests.Hosting;

namespace Aggregator.Sandbox.Tests.TestApi;

/// <summary>A provider's records changing under a client: added, replaced and deleted resources, seen through the FHIR API.</summary>
public sealed class ResourceChangeTests(GeneratedSandbox sandbox) : IClassFixture<GeneratedSandbox>
{
    private SandboxServer Server => sandbox.Server;

    [Fact]
    public async Task An_added_resource_gets_an_id_version_1_and_a_lastUpdated_of_now_that_searches_see()
    {
        var patient = await sandbox.PatientAsync("nextgen", 1);
        using var client = await Server.PatientClientAsync("nextgen", "r4", patient.PatientId);
        var fhirBase = Server.FhirBase("nextgen", "r4");
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        using var response = await Server.AddResourceAsync("nextgen", "r4", patient.PatientId, Glucose(patient.PatientId, 104));
        var created = JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!.AsObject();
        var id = (string)created["id"]!;
        var read = await client.GetJsonAsync(new Uri(fhirBase, $"Observation/{id}"));
        var since = await client.GetJsonAsync(new Uri(fhirBase, $"Observation?patient={patient.PatientId}&_lastUpdated=gt{Stamp(before)}"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(new Uri(fhirBase, $"Observation/{id}"), response.Headers.Location);
        Assert.Equal("1", (string?)read["meta"]!["versionId"]);
        Assert.InRange(DateTimeOffset.Parse((string)read["meta"]!["lastUpdated"]!, CultureInfo.InvariantCulture), before, DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.Equal(104m, (decimal)read["valueQuantity"]!["value"]!);
        Assert.Equal(id, (string?)since.Matches().Single()["id"]);
    }

    [Fact]
    public async Task A_replaced_resource_gets_the_next_version_and_moves_into_later_lastUpdated_searches()
    {
        var patient = await sandbox.PatientAsync("epic", 2);
        using var client = await Server.PatientClientAsync("epic", "r4", patient.PatientId);
        var fhirBase = Server.FhirBase("epic", "r4");
        var condition = (await client.GetJsonAsync(new Uri(fhirBase, $"Condition?patient={patient.PatientId}"))).Matches().First();
        var id = (string)condition["id"]!;
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        condition["clinicalStatus"] = new JsonObject
        {
            ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://terminology.hl7.org/CodeSystem/condition-clinical", ["code"] = "resolved" }),
        };
        condition["abatementDateTime"] = "2025-07-01";
        using var response = await Server.ReplaceResourceAsync("epic", "r4", "Condition", id, condition);
        var read = await client.GetJsonAsync(new Uri(fhirBase, $"Condition/{id}"));
        var since = await client.GetJsonAsync(new Uri(fhirBase, $"Condition?patient={patient.PatientId}&_lastUpdated=ge{Stamp(before)}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("2", (string?)read["meta"]!["versionId"]);
        Assert.Equal("resolved", (string?)read["clinicalStatus"]!["coding"]![0]!["code"]);
        Assert.Equal(id, (string?)since.Matches().Single()["id"]);
    }

    [Fact]
    public async Task A_deleted_resource_leaves_searches_and_its_read_answers_410()
    {
        var patient = await sandbox.PatientAsync("cerner", 3);
        using var client = await Server.PatientClientAsync("cerner", "r4", patient.PatientId);
        var fhirBase = Server.FhirBase("cerner", "r4");
        var immunizations = await client.GetJsonAsync(new Uri(fhirBase, $"Immunization?patient={patient.PatientId}"));
        var id = (string)immunizations.Matches().First()["id"]!;

        using var deleted = await Server.DeleteResourceAsync("cerner", "r4", "Immunization", id);
        var read = await client.GetJsonAsync(new Uri(fhirBase, $"Immunization/{id}"), HttpStatusCode.Gone);
        var after = await client.GetJsonAsync(new Uri(fhirBase, $"Immunization?patient={patient.PatientId}"));
        using var again = await Server.DeleteResourceAsync("cerner", "r4", "Immunization", id);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal("deleted", read.IssueCode());
        Assert.Equal((int)immunizations["total"]! - 1, (int)after["total"]!);
        Assert.DoesNotContain(after.Matches(), r => (string?)r["id"] == id);
        Assert.Equal(HttpStatusCode.Gone, again.StatusCode);
    }

    [Fact]
    public async Task DSTU2_resources_change_the_same_way_and_answer_in_the_DSTU2_media_type()
    {
        var patient = await sandbox.PatientAsync("nextgen", 2, "DSTU2");
        using var client = await Server.PatientClientAsync("nextgen", "dstu2", patient.PatientId);
        var fhirBase = Server.FhirBase("nextgen", "dstu2");
        var order = (await client.GetJsonAsync(new Uri(fhirBase, $"MedicationOrder?patient={patient.PatientId}"))).Matches().First();
        order["status"] = "stopped";

        using var response = await Server.ReplaceResourceAsync("nextgen", "dstu2", "MedicationOrder", (string)order["id"]!, order);
        var read = await client.GetJsonAsync(new Uri(fhirBase, $"MedicationOrder/{order["id"]}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json+fhir", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(("stopped", "2"), ((string?)read["status"], (string?)read["meta"]!["versionId"]));
    }

    [Fact]
    public async Task Changes_that_do_not_fit_the_record_are_refused()
    {
        var patient = await sandbox.PatientAsync("nextgen", 3);
        var other = await sandbox.PatientAsync("nextgen", 4);
        var existing = Glucose(patient.PatientId, 99);
        existing["id"] = "duplicate-glucose-1";
        using var first = await Server.AddResourceAsync("nextgen", "r4", patient.PatientId, existing);

        using var duplicate = await Server.AddResourceAsync("nextgen", "r4", patient.PatientId, existing);
        using var aPatient = await Server.AddResourceAsync("nextgen", "r4", patient.PatientId, new JsonObject { ["resourceType"] = "Patient" });
        using var unknownPatient = await Server.AddResourceAsync("nextgen", "r4", "no-such-patient", Glucose("no-such-patient", 99));
        using var someoneElse = await Server.AddResourceAsync("nextgen", "r4", patient.PatientId, Glucose(other.PatientId, 99));
        using var wrongType = await Server.ReplaceResourceAsync("nextgen", "r4", "Condition", "duplicate-glucose-1", existing);
        using var unknownId = await Server.ReplaceResourceAsync("nextgen", "r4", "Observation", "no-such-observation", existing);
        using var unknownBase = await Server.DeleteResourceAsync("epic", "dstu2", "Observation", "duplicate-glucose-1");

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, aPatient.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknownPatient.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, someoneElse.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, unknownId.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknownBase.StatusCode);
        Assert.Equal("OperationOutcome", (string?)JsonNode.Parse(await someoneElse.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!["resourceType"]);
    }

    private static JsonObject Glucose(string patientId, decimal value) => new()
    {
        ["resourceType"] = "Observation",
        ["status"] = "final",
        ["category"] = new JsonArray(new JsonObject
        {
            ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://terminology.hl7.org/CodeSystem/observation-category", ["code"] = "laboratory" }),
        }),
        ["code"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://loinc.org", ["code"] = "2345-7" }) },
        ["subject"] = new JsonObject { ["reference"] = $"Patient/{patientId}" },
        ["effectiveDateTime"] = "2025-07-01T08:00:00Z",
        ["valueQuantity"] = new JsonObject { ["value"] = value, ["unit"] = "mg/dL", ["system"] = "http://unitsofmeasure.org", ["code"] = "mg/dL" },
    };

    private static string Stamp(DateTimeOffset value) =>
        Uri.EscapeDataString(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
}
