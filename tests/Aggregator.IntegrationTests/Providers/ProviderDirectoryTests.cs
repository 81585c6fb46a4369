using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aggregator.Domain.Providers;
using Aggregator.Infrastructure.Providers;
using Aggregator.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.IntegrationTests.Providers;

public sealed class ProviderDirectoryTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox)
{
    private const string ReturnUrl = "https://coral.example/connected";

    [Fact]
    public async Task The_catalog_holds_nextgen_enterprise_as_two_entries_one_per_fhir_base()
    {
        var page = await Tenant.GetJsonAsync("/v1/providers?q=NextGen Enterprise");

        var bases = page.GetProperty("items").EnumerateArray()
            .Where(i => i.GetProperty("slug").GetString()!.StartsWith("nextgen-enterprise", StringComparison.Ordinal))
            .ToDictionary(i => i.GetProperty("fhirVersion").GetString()!, i => i.GetProperty("fhirBaseUrl").GetString());
        Assert.Equal("https://fhir.nextgen.com/nge/prod/fhir-api-r4/fhir/r4/", bases["R4"]);
        Assert.Equal("https://fhir.nextgen.com/nge/prod/fhir-api/fhir/dstu2/", bases["DSTU2"]);
    }

    [Fact]
    public async Task The_directory_searches_brand_and_location_and_pages_with_a_cursor()
    {
        var epic = await Tenant.GetJsonAsync("/v1/providers?q=epic");
        var boston = await Tenant.GetJsonAsync("/v1/providers?q=Boston");
        var firstPage = await Tenant.GetJsonAsync("/v1/providers?limit=2");
        var secondPage = await Tenant.GetJsonAsync("/v1/providers?limit=2&cursor=" + Uri.EscapeDataString(firstPage.GetProperty("nextCursor").GetString()!));

        Assert.All(epic.GetProperty("items").EnumerateArray(), i => Assert.Equal("Epic", i.GetProperty("brand").GetString()));
        Assert.Equal(["athenahealth"], boston.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("brand").GetString()));
        var ids = firstPage.GetProperty("items").EnumerateArray().Concat(secondPage.GetProperty("items").EnumerateArray()).Select(i => i.GetProperty("id").GetGuid()).ToList();
        Assert.Equal(4, ids.Distinct().Count());
    }

    [Fact]
    public async Task A_brands_bundle_imported_by_the_cli_is_searchable_by_facility_brand_and_city()
    {
        var file = Path.Combine(Path.GetTempPath(), $"brands-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, BrandsBundle().ToJsonString(), TestContext.Current.CancellationToken);
        try
        {
            var (code, stdout, stderr) = await OperatorCli.RunAsync(Database.ConnectionString, "providers", "import-brands", file);
            Assert.True(code == 0, stderr);
            Assert.Contains("Imported 2 endpoints; skipped 1", stdout, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }

        var springfield = await Tenant.GetJsonAsync("/v1/providers?q=Springfield");
        var item = Assert.Single(springfield.GetProperty("items").EnumerateArray());
        Assert.Equal("Lakeside Clinic North", item.GetProperty("name").GetString());
        Assert.Equal("Lakeside Health", item.GetProperty("brand").GetString());
        Assert.Equal("https://fhir.lakeside.example/r4/", item.GetProperty("fhirBaseUrl").GetString());
        var dstu2 = await Tenant.GetJsonAsync("/v1/providers?q=Lakeside DSTU2");
        Assert.Equal("DSTU2", Assert.Single(dstu2.GetProperty("items").EnumerateArray()).GetProperty("fhirVersion").GetString());
        Assert.Empty((await Tenant.GetJsonAsync("/v1/providers?q=Plain HTTP")).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task A_brands_import_never_re_points_an_entry_or_drops_its_endpoints_and_reports_each_collision()
    {
        var sandboxBase = (await Tenant.GetJsonAsync("/v1/providers?q=sandbox-nextgen-r4")).GetProperty("items")[0].GetProperty("fhirBaseUrl").GetString()!;
        var first = BrandsBundle();
        Assert.Contains("Imported 2 endpoints", (await ImportAsync(first)).Stdout, StringComparison.Ordinal);
        await using (var scope = Api.Services.CreateAsyncScope())
        {
            // The operator then writes the Lakeside R4 entry's OAuth endpoints into the directory.
            var administration = scope.ServiceProvider.GetRequiredService<ProviderAdministration>();
            await administration.UpsertAsync(new ProviderEntry("brands-lakeside-r4", "Lakeside Clinic North", "Lakeside Health", FhirVersion.R4, "https://fhir.lakeside.example/r4/",
                AuthorizeUrl: "https://auth.lakeside.example/authorize", TokenUrl: "https://auth.lakeside.example/token", Location: "Springfield, IL"), "operator", TestContext.Current.CancellationToken);
            await administration.SaveAsync(TestContext.Current.CancellationToken);
        }

        // The next bundle renames the R4 clinic, moves the DSTU2 endpoint elsewhere, and lists the sandbox's base under an id of its own.
        var second = BrandsBundle();
        var entries = second["entry"]!.AsArray();
        entries.Select(e => e!["resource"]!).Single(r => (string?)r["id"] == "lakeside-north")["name"] = "Lakeside Clinic North (renamed)";
        entries.Select(e => e!["resource"]!).Single(r => (string?)r["id"] == "lakeside-dstu2")["address"] = "https://elsewhere.example/dstu2/";
        entries.Add(new JsonObject { ["resource"] = new JsonObject { ["resourceType"] = "Organization", ["id"] = "copycat", ["name"] = "Copycat Clinic", ["endpoint"] = new JsonArray(new JsonObject { ["reference"] = "Endpoint/copycat" }) } });
        entries.Add(new JsonObject { ["resource"] = new JsonObject { ["resourceType"] = "Endpoint", ["id"] = "copycat", ["address"] = sandboxBase } });

        var (_, stdout, _) = await ImportAsync(second);

        Assert.Contains("Imported 1 endpoints; skipped 1 organisations without a usable endpoint; 2 collisions left alone.", stdout, StringComparison.Ordinal);
        Assert.Contains("collision: Lakeside Legacy Portal DSTU2: 'brands-lakeside-dstu2' already points to another FHIR base", stdout, StringComparison.Ordinal);
        Assert.Contains("collision: Copycat Clinic: " + sandboxBase + " is already in the directory as 'sandbox-nextgen-r4'", stdout, StringComparison.Ordinal);
        await using var db = Database.CreateContext();
        var r4 = await db.Providers.AsNoTracking().SingleAsync(p => p.Slug == "brands-lakeside-r4", TestContext.Current.CancellationToken);
        Assert.Equal("Lakeside Clinic North (renamed)", r4.Name);
        Assert.Equal("https://auth.lakeside.example/token", r4.TokenUrl);
        Assert.Equal("https://auth.lakeside.example/authorize", r4.AuthorizeUrl);
        Assert.Equal("https://fhir.lakeside.example/dstu2/", (await db.Providers.AsNoTracking().SingleAsync(p => p.Slug == "brands-lakeside-dstu2", TestContext.Current.CancellationToken)).FhirBaseUrl);
        Assert.Equal("sandbox-nextgen-r4", (await db.Providers.AsNoTracking().SingleAsync(p => p.FhirBaseUrl == sandboxBase, TestContext.Current.CancellationToken)).Slug);
        Assert.False(await db.Providers.AnyAsync(p => p.Slug == "brands-copycat", TestContext.Current.CancellationToken));
    }

    private async Task<(int Code, string Stdout, string Stderr)> ImportAsync(JsonObject bundle)
    {
        var file = Path.Combine(Path.GetTempPath(), $"brands-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, bundle.ToJsonString(), TestContext.Current.CancellationToken);
        try
        {
            var result = await OperatorCli.RunAsync(Database.ConnectionString, "providers", "import-brands", file);
            Assert.True(result.Code == 0, result.Stderr);
            return result;
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task ATenants_own_private_key_jwt_client_is_used_for_its_connections()
    {
        // As `providers set-client --tenant` does it: an operator's scope (it leaves an audit event in the tenant's trail).
        await using (var scope = Api.Services.CreateOperatorScope())
        {
            var administration = scope.ServiceProvider.GetRequiredService<ProviderAdministration>();
            var provider = (await administration.FindBySlugAsync("sandbox-nextgen-r4", TestContext.Current.CancellationToken))!;
            var pem = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Authorization", "Clients", "test-client-private-key.pem"), TestContext.Current.CancellationToken);
            await administration.SetClientAsync(provider, TenantId, "nextgen-jwt-app", ClientAuthenticationMethod.PrivateKeyJwt, pem, "sandbox-test-client-1", null, TestContext.Current.CancellationToken);
            await administration.SaveAsync(TestContext.Current.CancellationToken);
        }

        var patient = (await Tenant.PutPatientAsync("p-jwt")).GetProperty("id").GetGuid();
        var providerId = (await Tenant.GetJsonAsync("/v1/providers?q=sandbox-nextgen-r4")).GetProperty("items")[0].GetProperty("id").GetGuid();
        var response = await Tenant.PostAsJsonAsync(new Uri($"/v1/patients/{patient}/connections", UriKind.Relative), new { providerId, returnUrl = ReturnUrl }, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var authorizeUrl = new Uri(body.GetProperty("authorizeUrl").GetString()!);

        var landing = await new PatientBrowser(Sandbox, Api.CreateClient(new() { AllowAutoRedirect = false }))
            .ConnectAsync(authorizeUrl, Sandbox.Login("nextgen", "R4", 6));

        Assert.Equal("nextgen-jwt-app", QueryHelpers.ParseQuery(authorizeUrl.Query)["client_id"].ToString());
        Assert.Equal("connected", QueryHelpers.ParseQuery(landing.Query)["status"].ToString());
    }

    [Fact]
    public async Task Discovery_reads_the_dstu2_servers_oauth_uris_from_its_conformance_statement()
    {
        await using var scope = Api.Services.CreateAsyncScope();
        var provider = (await scope.ServiceProvider.GetRequiredService<ProviderAdministration>().FindBySlugAsync("sandbox-nextgen-dstu2", TestContext.Current.CancellationToken))!;

        var configuration = await scope.ServiceProvider.GetRequiredService<SmartDiscovery>().DiscoverAsync(provider, TestContext.Current.CancellationToken);

        Assert.Equal(new Uri(Sandbox.Root, "oauth/authorize"), configuration.AuthorizationEndpoint);
        Assert.Equal(new Uri(Sandbox.Root, "oauth/token"), configuration.TokenEndpoint);
        Assert.NotNull(configuration.RevocationEndpoint);
    }

    private static JsonObject BrandsBundle()
    {
        static JsonObject Entry(JsonObject resource) => new() { ["resource"] = resource };
        return new JsonObject
        {
            ["resourceType"] = "Bundle",
            ["type"] = "collection",
            ["entry"] = new JsonArray
            {
                Entry(new JsonObject { ["resourceType"] = "Organization", ["id"] = "lakeside", ["name"] = "Lakeside Health" }),
                Entry(new JsonObject
                {
                    ["resourceType"] = "Organization",
                    ["id"] = "lakeside-north",
                    ["name"] = "Lakeside Clinic North",
                    ["partOf"] = new JsonObject { ["reference"] = "Organization/lakeside" },
                    ["address"] = new JsonArray(new JsonObject { ["city"] = "Springfield", ["state"] = "IL" }),
                    ["endpoint"] = new JsonArray(new JsonObject { ["reference"] = "Endpoint/lakeside-r4" }),
                }),
                Entry(new JsonObject
                {
                    ["resourceType"] = "Organization",
                    ["id"] = "lakeside-legacy",
                    ["name"] = "Lakeside Legacy Portal DSTU2",
                    ["partOf"] = new JsonObject { ["reference"] = "Organization/lakeside" },
                    ["endpoint"] = new JsonArray(new JsonObject { ["reference"] = "Endpoint/lakeside-dstu2" }),
                }),
                Entry(new JsonObject
                {
                    ["resourceType"] = "Organization",
                    ["id"] = "lakeside-insecure",
                    ["name"] = "Lakeside Plain HTTP Clinic",
                    ["partOf"] = new JsonObject { ["reference"] = "Organization/lakeside" },
                    ["endpoint"] = new JsonArray(new JsonObject { ["reference"] = "Endpoint/lakeside-http" }),
                }),
                Entry(new JsonObject { ["resourceType"] = "Endpoint", ["id"] = "lakeside-http", ["address"] = "http://fhir.lakeside.example/plain/r4" }),
                Entry(new JsonObject
                {
                    ["resourceType"] = "Endpoint",
                    ["id"] = "lakeside-r4",
                    ["address"] = "https://fhir.lakeside.example/r4",
                    ["extension"] = new JsonArray(new JsonObject { ["url"] = "http://hl7.org/fhir/StructureDefinition/endpoint-fhir-version", ["valueCode"] = "4.0.1" }),
                }),
                Entry(new JsonObject
                {
                    ["resourceType"] = "Endpoint",
                    ["id"] = "lakeside-dstu2",
                    ["address"] = "https://fhir.lakeside.example/dstu2/",
                    ["extension"] = new JsonArray(new JsonObject { ["url"] = "http://hl7.org/fhir/StructureDefinition/endpoint-fhir-version", ["valueCode"] = "1.0.2" }),
                }),
            },
        };
    }
}
