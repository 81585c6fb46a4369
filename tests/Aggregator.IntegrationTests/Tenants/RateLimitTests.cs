using System.Net;
using Aggregator.IntegrationTests.Infrastructure;

namespace Aggregator.IntegrationTests.Tenants;

/// <summary>Each tenant, and each anonymous address, has a budget of requests a second; past it the answer is 429 with Retry-After.</summary>
public sealed class RateLimitTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox,
    settings: new Dictionary<string, string?> { ["RateLimits:PerTenantPerSecond"] = "5", ["RateLimits:AnonymousPerIpPerSecond"] = "3" })
{
    [Fact]
    public async Task A_tenant_past_its_budget_gets_429_with_retry_after_while_another_tenant_is_served()
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Tenant.GetAsync(new Uri("/v1/patients", UriKind.Relative), TestContext.Current.CancellationToken)));
        var (other, _) = await Api.CreateTenantClientAsync("Other Health", ConnectedPatients.ReturnUrl);
        var othersAnswer = await other.GetAsync(new Uri("/v1/patients", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.InRange(answers.Count(a => a.StatusCode == HttpStatusCode.OK), 1, 10);
        var refused = answers.Where(a => a.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(refused);
        Assert.Equal(20, answers.Count(a => a.StatusCode is HttpStatusCode.OK or HttpStatusCode.TooManyRequests));
        Assert.All(refused, r =>
        {
            Assert.True(r.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        });
        Assert.Equal(HttpStatusCode.OK, othersAnswer.StatusCode);

        // A second later the budget is back.
        await Task.Delay(TimeSpan.FromSeconds(1.2), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, (await Tenant.GetAsync(new Uri("/v1/patients", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task Callers_without_a_valid_credential_have_a_smaller_budget_and_health_checks_have_none()
    {
        // Someone guessing keys.
        var anonymous = Api.CreateClient().WithBearer("agg_test_" + new string('x', 43));

        var refusedCredentials = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => anonymous.GetAsync(new Uri("/v1/providers", UriKind.Relative), TestContext.Current.CancellationToken)));
        var health = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => anonymous.GetAsync(new Uri("/health/live", UriKind.Relative), TestContext.Current.CancellationToken)));

        Assert.Contains(refusedCredentials, a => a.StatusCode == HttpStatusCode.TooManyRequests);
        // Three a second (a burst may straddle one refill).
        Assert.InRange(refusedCredentials.Count(a => a.StatusCode == HttpStatusCode.Unauthorized), 1, 6);
        Assert.All(health, h => Assert.Equal(HttpStatusCode.OK, h.StatusCode));
    }
}
