using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
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
            "/v1/patients/{patientId}", "/v1/patients", "/v1/patients/{patientId}/session-tokens",
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
    public async Task The_committed_contract_is_the_document_the_api_serves()
    {
        var served = ApiContract.Normalize(await _api.CreateClient().GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative), TestContext.Current.CancellationToken));
        var committed = File.Exists(ApiContract.FilePath) ? await File.ReadAllTextAsync(ApiContract.FilePath, TestContext.Current.CancellationToken) : "";

        if (served != committed && Environment.GetEnvironmentVariable("CI") != "true")
        {
            // On a developer's machine the new contract is written, to be reviewed and committed with the change that made it.
            await File.WriteAllTextAsync(ApiContract.FilePath, served, TestContext.Current.CancellationToken);
        }

        Assert.True(served == committed, $"The API's contract changed: review {ApiContract.FilePath} (written now, outside CI) and commit it with the change.");
    }

    [Fact]
    public async Task Every_route_the_app_maps_is_in_the_document_with_an_operation_id_a_summary_and_a_schema_for_each_answer()
    {
        var document = await _api.CreateClient().GetJsonAsync("/openapi/v1.json");
        var paths = document.GetProperty("paths");
        var endpoints = _api.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>()?.ExcludeFromDescription != true
                && e.RoutePattern.RawText is { } raw && (raw.StartsWith("/v1", StringComparison.Ordinal) || raw.StartsWith("/fhir", StringComparison.Ordinal)))
            .ToList();
        Assert.True(endpoints.Count > 40);
        var operationIds = new HashSet<string>(StringComparer.Ordinal);

        foreach (var endpoint in endpoints)
        {
            var path = Regex.Replace(endpoint.RoutePattern.RawText!, @":[^}]+\}", "}").TrimEnd('/');
            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods)
            {
                var where = $"{method} {path}";
                var operation = default(JsonElement);
                Assert.True(paths.TryGetProperty(path, out var item) && item.TryGetProperty(method.ToLowerInvariant(), out operation), $"{where} is not in the document");
                Assert.True(operation.TryGetProperty("operationId", out var id) && operationIds.Add(id.GetString()!), $"{where} has no operationId, or shares one");
                Assert.False(string.IsNullOrWhiteSpace(operation.GetProperty("summary").GetString()), $"{where} has no summary");
                var responses = operation.GetProperty("responses");
                foreach (var declared in endpoint.Metadata.OfType<IProducesResponseTypeMetadata>().Where(m => m.StatusCode >= 200))
                {
                    Assert.True(responses.TryGetProperty(declared.StatusCode.ToString(CultureInfo.InvariantCulture), out _), $"{where} answers {declared.StatusCode} undocumented");
                }

                foreach (var response in responses.EnumerateObject())
                {
                    var answer = response.Value.TryGetProperty("$ref", out var shared)
                        ? document.GetProperty("components").GetProperty("responses").GetProperty(shared.GetString()!.Split('/')[^1])
                        : response.Value;
                    if (response.Name is "204" or "302" or "304")
                    {
                        continue;
                    }

                    Assert.True(answer.TryGetProperty("content", out var content), $"{where} {response.Name} has no content");
                    foreach (var media in content.EnumerateObject())
                    {
                        Assert.True(media.Value.TryGetProperty("schema", out var schema) && schema.EnumerateObject().Any(), $"{where} {response.Name} {media.Name} has no schema");
                    }
                }
            }
        }
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
