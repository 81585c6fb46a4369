using System.Net;
using Aggregator.Infrastructure.Tenants;
using Aggregator.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.IntegrationTests.Tenants;

/// <summary>Someone sending endless made-up keys is refused every time and cannot grow the memory that remembers refusals.</summary>
public sealed class ApiKeyCacheTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox,
    settings: new Dictionary<string, string?> { ["Auth:FailedKeyCacheEntries"] = "50" })
{
    [Fact]
    public async Task Unknown_keys_are_remembered_in_a_bounded_cache_and_real_keys_keep_working()
    {
        var client = Api.CreateClient();
        var guesses = Enumerable.Range(0, 300).Select(i => $"agg_test_{Guid.NewGuid():N}{i:D6}").ToList();

        foreach (var batch in guesses.Chunk(25))
        {
            var answers = await Task.WhenAll(batch.Select(async key =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/v1/patients", UriKind.Relative));
                request.Headers.Authorization = new("Bearer", key);
                using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
                return response.StatusCode;
            }));
            Assert.All(answers, status => Assert.Equal(HttpStatusCode.Unauthorized, status));
        }

        var authenticator = Api.Services.GetRequiredService<ApiKeyAuthenticator>();
        Assert.InRange(authenticator.FailedEntries, 1, 50);
        // A remembered refusal and a forgotten one are both refused again; the tenant's own key still works.
        var again = Api.CreateClient().WithBearer(guesses[^1]);
        Assert.Equal(HttpStatusCode.Unauthorized, (await again.GetAsync(new Uri("/v1/patients", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        var first = Api.CreateClient().WithBearer(guesses[0]);
        Assert.Equal(HttpStatusCode.Unauthorized, (await first.GetAsync(new Uri("/v1/patients", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Tenant.GetAsync(new Uri("/v1/patients", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        Assert.InRange(authenticator.FailedEntries, 1, 50);
    }
}
