using System.Net;
using System.Text.Json;
using Aggregator.IntegrationTests.Infrastructure;

namespace Aggregator.IntegrationTests.Foundation;

public sealed class ApiDocumentTests(PostgresServer server) : IAsyncLifetime
{
    private readonly TestDatabase _database = new(server);
    private ApiFactory _api = null!;

    public async ValueTask InitializeAsync()
    {
        await _database.InitializeAsync();
        _api = new ApiFactory(_database.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        await _api.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task The_openapi_document_describes_every_route_and_the_bearer_scheme()
    {
        var document = await _api.CreateClient().GetJsonAsync("/openapi/v1.json");

        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.Superset(new HashSet<string>
        {
            "/v1/patients/{externalId}", "/v1/patients/{id}", "/v1/patients", "/v1/patients/{id}/session-tokens",
            "/v1/providers", "/v1/patients/{patientId}/connections", "/v1/connections/{connectionId}",
            "/v1/connections/{connectionId}/reconnect", "/v1/oauth/callback",
        }, paths);
        Assert.Equal("bearer", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer").GetProperty("scheme").GetString());
    }

    [Fact]
    public async Task The_record_and_fhir_view_are_described_with_examples_of_the_contract()
    {
        var document = await _api.CreateClient().GetJsonAsync("/openapi/v1.json");
        var paths = document.GetProperty("paths");

        var category = paths.GetProperty("/v1/patients/{patientId}/record/{category}").GetProperty("get").GetProperty("responses");
        var page = category.GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("example");
        var source = page.GetProperty("items")[0].GetProperty("sources")[0];
        Assert.All(new[] { "connectionId", "resourceType", "resourceId" }, name => Assert.Equal(JsonValueKind.String, source.GetProperty(name).ValueKind));
        Assert.True(page.TryGetProperty("nextCursor", out _));
        Assert.Equal("urn:aggregator:problem:invalid-cursor",
            category.GetProperty("400").GetProperty("content").GetProperty("application/problem+json").GetProperty("example").GetProperty("type").GetString());

        var everything = paths.GetProperty("/fhir/r4/Patient/{patientId}/$everything").GetProperty("get").GetProperty("responses").GetProperty("200")
            .GetProperty("content").GetProperty("application/fhir+json").GetProperty("example");
        Assert.Equal("Bundle", everything.GetProperty("resourceType").GetString());
        var refused = paths.GetProperty("/fhir/r4/{type}").GetProperty("get").GetProperty("responses").GetProperty("400")
            .GetProperty("content").GetProperty("application/fhir+json").GetProperty("example");
        Assert.Equal("OperationOutcome", refused.GetProperty("resourceType").GetString());
        Assert.True(paths.GetProperty("/fhir/r4/metadata").GetProperty("get").GetProperty("responses").GetProperty("200")
            .GetProperty("content").GetProperty("application/fhir+json").TryGetProperty("example", out _));
        Assert.Contains(everything.GetProperty("entry").EnumerateArray(), e => e.GetProperty("resource").GetProperty("resourceType").GetString() == "Provenance");

        var connect = paths.GetProperty("/v1/patients/{patientId}/connections").GetProperty("post");
        Assert.True(connect.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("example").TryGetProperty("providerId", out _));
        Assert.True(connect.GetProperty("responses").GetProperty("201").GetProperty("content").GetProperty("application/json").GetProperty("example").TryGetProperty("authorizeUrl", out _));
        Assert.True(paths.TryGetProperty("/v1/patients/{patientId}/audit-events", out _));
    }

    [Fact]
    public async Task The_interactive_reference_is_served()
    {
        var client = _api.CreateClient();

        var page = await client.GetAsync(new Uri("/docs", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
    }
}
