using System.Net;
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
    public async Task The_interactive_reference_is_served()
    {
        var client = _api.CreateClient();

        var page = await client.GetAsync(new Uri("/docs", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
    }
}
