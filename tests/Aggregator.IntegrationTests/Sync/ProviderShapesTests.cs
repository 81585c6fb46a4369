using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aggregator.Domain.Providers;
using Aggregator.Infrastructure.Providers;
using Aggregator.IntegrationTests.Infrastructure;
using Aggregator.Sandbox.Tests.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.IntegrationTests.Sync;

/// <summary>
/// Providers write links, documents and JSON in shapes of their own. Host-relative links mean the FHIR base; document
/// content at any address on the provider's server is fetched and served; odd JSON costs one resource, never a run or a
/// read; and a discovery document cannot send us over plain http or into the private network.
/// </summary>
public sealed class ProviderShapesTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox, jobServer: true)
{
    [Theory]
    [InlineData(7, "relative-links")]
    [InlineData(8, "document-paths")]
    public async Task Links_and_document_urls_written_relative_to_the_base_or_outside_Binary_are_followed_and_every_document_is_served(int person, string fault)
    {
        var login = Sandbox.Generated("cerner", "R4", person);
        // From the first page on: every next link host-relative (cerner pages by 10), every attachment url in the fault's shape.
        await Sandbox.Server.InjectFaultAsync(new FaultSpec("cerner", fault) { PatientId = login.PatientId });
        try
        {
            var (patientId, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-cerner-r4", login, $"shapes-{fault}");
            var run = await Tenant.WaitForRunAsync(connectionId);

            Assert.Equal("succeeded", run.GetProperty("status").GetString());
            var coverage = (await Tenant.GetJsonAsync($"/v1/connections/{connectionId}/coverage")).GetProperty("items").EnumerateArray().ToList();
            Assert.DoesNotContain(coverage, c => c.GetProperty("state").GetString() == "failing");
            await using (var db = Database.CreateContext())
            {
                // The documents' content was fetched from where the attachments pointed.
                Assert.True(await db.SourceResources.CountAsync(r => r.ConnectionId == connectionId && r.ResourceType == "Binary", TestContext.Current.CancellationToken) > 0);
            }

            var documents = (await Tenant.GetJsonAsync($"/v1/patients/{patientId}/record/documents?limit=100")).GetProperty("items").EnumerateArray().ToList();
            Assert.NotEmpty(documents);
            foreach (var document in documents)
            {
                using var content = await Tenant.GetAsync(new Uri($"/v1/patients/{patientId}/documents/{document.GetProperty("id").GetGuid()}/content", UriKind.Relative), TestContext.Current.CancellationToken);
                Assert.True(content.StatusCode == HttpStatusCode.OK, $"{document.GetProperty("display")}: {(int)content.StatusCode}");
                Assert.NotEmpty(await content.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
            }
        }
        finally
        {
            await Sandbox.Server.ClearFaultsAsync("cerner", login.PatientId);
        }
    }

    [Fact]
    public async Task Odd_JSON_shapes_cost_one_resource_not_the_run_and_no_read_of_the_record_fails()
    {
        var login = Sandbox.Generated("nextgen", "R4", 8);
        // The first three search pages carry an entry that is a string, a list as a resource, numeric link relations and
        // search modes, and a copy of their first resource whose elements have the wrong JSON types.
        await Sandbox.Server.InjectFaultAsync(new FaultSpec("nextgen", "odd-json") { PatientId = login.PatientId, Count = 3 });
        var (patientId, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-nextgen-r4", login, "shapes-odd-json");
        var run = await Tenant.WaitForRunAsync(connectionId);

        Assert.True(run.GetProperty("status").GetString() != "failed", run.ToString());
        // The entry that is a string and the list that stood for a resource were set aside, counted, with the reason.
        Assert.True(run.GetProperty("types").EnumerateObject().Sum(t => t.Value.GetProperty("malformed").GetInt32()) >= 2, run.ToString());
        Assert.Contains("malformed", run.GetProperty("error").GetString(), StringComparison.Ordinal);
        var coverage = (await Tenant.GetJsonAsync($"/v1/connections/{connectionId}/coverage")).GetProperty("items").EnumerateArray().ToList();
        Assert.All(coverage, c => Assert.True(c.GetProperty("state").GetString() != "failing", c.ToString()));
        var record = await Tenant.GetJsonAsync($"/v1/patients/{patientId}/record");
        Assert.True(record.GetProperty("categories").EnumerateArray().Sum(c => c.GetProperty("count").GetInt32()) > 0);

        var reads = new List<string>
        {
            $"/v1/patients/{patientId}/record", $"/v1/patients/{patientId}/timeline", $"/v1/patients/{patientId}/changes",
            $"/v1/patients/{patientId}/labs/trends", $"/v1/patients/{patientId}/export", $"/fhir/r4/Patient/{patientId}/$everything",
        };
        foreach (var category in record.GetProperty("categories").EnumerateArray())
        {
            var name = category.GetProperty("category").GetString();
            reads.Add($"/v1/patients/{patientId}/record/{name}?limit=200");
            foreach (var item in (await Tenant.GetJsonAsync($"/v1/patients/{patientId}/record/{name}?limit=200")).GetProperty("items").EnumerateArray())
            {
                reads.Add($"/v1/patients/{patientId}/record/items/{item.GetProperty("id").GetGuid()}");
                if (name == "documents")
                {
                    reads.Add($"/v1/patients/{patientId}/documents/{item.GetProperty("id").GetGuid()}/content");
                }
            }
        }

        foreach (var path in reads)
        {
            using var answer = await Tenant.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);
            Assert.True((int)answer.StatusCode < 500, $"{path} answered {(int)answer.StatusCode}");
        }
    }

    [Theory]
    [InlineData("rogue-http", "not https")]
    [InlineData("rogue-private", "not a public address")]
    public async Task An_endpoint_a_discovery_document_names_must_be_https_on_a_public_address(string persona, string reason)
    {
        await using (var scope = Api.Services.CreateAsyncScope())
        {
            // The directory names only the FHIR base (on the sandbox); the OAuth endpoints come from its discovery document.
            var administration = scope.ServiceProvider.GetRequiredService<ProviderAdministration>();
            var provider = await administration.UpsertAsync(
                new ProviderEntry(persona, $"Rogue Clinic ({persona})", "Rogue", FhirVersion.R4, new Uri(Sandbox.Root, $"{persona}/fhir/r4/").AbsoluteUri), "test", TestContext.Current.CancellationToken);
            await administration.SetClientAsync(provider, null, "rogue-app", ClientAuthenticationMethod.None, null, null, null, TestContext.Current.CancellationToken);
            await administration.SaveAsync(TestContext.Current.CancellationToken);
        }

        var patient = (await Tenant.PutPatientAsync($"rogue-{persona}")).GetProperty("id").GetGuid();
        var providerId = (await Tenant.GetJsonAsync($"/v1/providers?q={persona}")).GetProperty("items")[0].GetProperty("id").GetGuid();

        using var response = await Tenant.PostAsJsonAsync(new Uri($"/v1/patients/{patient}/connections", UriKind.Relative), new { providerId, returnUrl = ConnectedPatients.ReturnUrl }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.True(problem.TryGetProperty("detail", out var detail), problem.ToString());
        Assert.Contains(reason, detail.GetString(), StringComparison.Ordinal);
        await using var db = Database.CreateContext();
        Assert.Equal(0, await db.Connections.CountAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_token_endpoint_learned_from_discovery_is_dialled_on_a_public_address_only_whatever_its_name_resolves_to_later()
    {
        await using var scope = Api.Services.CreateAsyncScope();
        var provider = (await scope.ServiceProvider.GetRequiredService<ProviderAdministration>().FindBySlugAsync("sandbox-nextgen-r4", TestContext.Current.CancellationToken))!;
        var configured = await scope.ServiceProvider.GetRequiredService<SmartDiscovery>().DiscoverAsync(provider, TestContext.Current.CancellationToken);
        // As if the token endpoint had come from a discovery document and its name now resolved to loopback (DNS rebinding).
        var rebound = configured with { PublicOnlyOrigins = new HashSet<string> { configured.TokenEndpoint.GetLeftPart(UriPartial.Authority) } };
        var tokens = scope.ServiceProvider.GetRequiredService<Aggregator.Infrastructure.Connections.ProviderTokenClient>();
        var client = new Aggregator.Infrastructure.Providers.ProviderClient("aggregator-test", ClientAuthenticationMethod.None, null, null, null);

        // Refused first: a connection the unchecked request opened would be pooled and reused for the same origin.
        var refused = await tokens.RefreshAsync(rebound, client, "not-a-refresh-token", TestContext.Current.CancellationToken);
        var reached = await tokens.RefreshAsync(configured, client, "not-a-refresh-token", TestContext.Current.CancellationToken);

        Assert.NotEqual(Duende.IdentityModel.Client.ResponseErrorType.Exception, reached.ErrorType);
        Assert.True((int)reached.HttpStatusCode >= 400, reached.ErrorType.ToString()); // the sandbox answered (it refuses the grant)
        Assert.Equal(Duende.IdentityModel.Client.ResponseErrorType.Exception, refused.ErrorType); // never dialled
        Assert.Contains("no public address", refused.Exception?.Message ?? refused.Error, StringComparison.Ordinal);
    }
}
