using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aggregator.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.IntegrationTests.Foundation;

public sealed class HealthAndErrorTests(PostgresServer server) : IAsyncLifetime
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
    public async Task Ready_and_live_answer_200_when_the_database_is_up_and_migrated()
    {
        var client = _api.CreateClient();

        var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative), TestContext.Current.CancellationToken);
        var live = await client.GetAsync(new Uri("/health/live", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Fact]
    public async Task Ready_answers_503_and_live_200_when_the_database_cannot_be_reached()
    {
        // A second host pointed at a port nothing listens on; the shared server is never stopped.
        await using var deadApi = new ApiFactory($"Host=127.0.0.1;Port={DeadPort()};Username=aggregator;Database=none;Timeout=3");
        var client = deadApi.CreateClient();

        var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative), TestContext.Current.CancellationToken);
        var live = await client.GetAsync(new Uri("/health/live", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        var body = await ready.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.DoesNotContain("127.0.0.1", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_route_is_a_problem_detail_with_a_stable_type()
    {
        var client = _api.CreateClient();

        var response = await client.GetAsync(new Uri("/v1/no-such-thing", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal("urn:aggregator:problem:not-found", problem.GetProperty("type").GetString());
        Assert.Equal(404, problem.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task A_json_body_over_one_megabyte_is_refused_with_413()
    {
        var client = _api.CreateClient();
        var big = "{\"note\":\"" + new string('x', 1_100_000) + "\"}";

        using var content = new StringContent(big, System.Text.Encoding.UTF8, "application/json");
        var response = await client.PostAsync(new Uri("/v1/patients", UriKind.Relative), content, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal("urn:aggregator:problem:payload-too-large", problem.GetProperty("type").GetString());
    }

    [Fact]
    public async Task An_unhandled_error_in_development_is_a_problem_detail_without_a_stack_trace()
    {
        await using var api = _api.WithWebHostBuilder(builder => builder.ConfigureServices(services =>
            services.AddSingleton<IStartupFilter>(new ThrowingRouteFilter())));
        var client = api.CreateClient();

        var response = await client.GetAsync(new Uri("/test/throw", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.DoesNotContain("SecretDetail", body, StringComparison.Ordinal);
        Assert.DoesNotContain("ThrowingRouteFilter", body, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", body, StringComparison.Ordinal);
        Assert.Contains("urn:aggregator:problem:internal", body, StringComparison.Ordinal);
    }

    private static int DeadPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Adds a route that fails, after the Api's own pipeline, as a faulty endpoint would.</summary>
    private sealed class ThrowingRouteFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            next(app);
            app.Use((HttpContext context, RequestDelegate inner) => context.Request.Path == "/test/throw"
                ? throw new InvalidOperationException("SecretDetail: select * from patients")
                : inner(context));
        };
    }
}
