using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Aggregator.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.IntegrationTests.Foundation;

/// <summary>
/// Who the Api believes a caller is: the jobs dashboard wants the operator's password even from the machine itself, and
/// a forwarded client address counts only when the proxy that sent it is one the operator named.
/// </summary>
public sealed class OperatorAccessTests(PostgresServer server) : IAsyncLifetime
{
    private readonly TestDatabase _database = new(server);

    public async ValueTask InitializeAsync() => await _database.InitializeAsync();

    public async ValueTask DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task The_jobs_dashboard_wants_the_operator_password_even_from_a_local_address_and_is_closed_without_one()
    {
        // Every request arrives from 127.0.0.1, as through an SSH tunnel or a proxy on the same machine.
        await using var open = new ApiFactory(_database.ConnectionString, new Dictionary<string, string?> { ["Operator:DashboardPassword"] = "s3cret-operator" },
            services => services.AddSingleton<IStartupFilter>(new FromAddress(IPAddress.Loopback)));
        await using var closed = new ApiFactory(_database.ConnectionString, configureServices: services => services.AddSingleton<IStartupFilter>(new FromAddress(IPAddress.Loopback)));

        Assert.Equal(HttpStatusCode.Unauthorized, (await open.CreateClient().GetAsync(new Uri("/hangfire", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await WithBasic(open, "operator", "wrong")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await WithBasic(open, "operator", "s3cret-operator")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await closed.CreateClient().GetAsync(new Uri("/hangfire", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await WithBasic(closed, "operator", "")).StatusCode);
    }

    [Fact]
    public async Task X_Forwarded_For_counts_only_from_a_named_proxy()
    {
        var proxy = IPAddress.Parse("10.1.2.3");
        var limits = new Dictionary<string, string?> { ["RateLimits:AnonymousPerIpPerSecond"] = "3", ["RateLimits:PerTenantPerSecond"] = "1000" };
        await using var behindProxy = new ApiFactory(_database.ConnectionString, new Dictionary<string, string?>(limits) { ["ForwardedHeaders:KnownProxies"] = "10.1.2.3" },
            services => services.AddSingleton<IStartupFilter>(new FromAddress(proxy)));
        await using var unnamed = new ApiFactory(_database.ConnectionString, limits, services => services.AddSingleton<IStartupFilter>(new FromAddress(proxy)));

        // Eight strangers behind the named proxy: each has a budget of its own.
        Assert.DoesNotContain(HttpStatusCode.TooManyRequests, await AnonymousBurstAsync(behindProxy, i => $"203.0.113.{i + 1}"));
        // One stranger sending eight: their own budget runs out.
        Assert.Contains(HttpStatusCode.TooManyRequests, await AnonymousBurstAsync(behindProxy, _ => "203.0.113.200"));
        // A caller that is not a named proxy cannot pick its address by writing the header: it shares one budget.
        Assert.Contains(HttpStatusCode.TooManyRequests, await AnonymousBurstAsync(unnamed, i => $"198.51.100.{i + 1}"));
    }

    private static async Task<HttpStatusCode[]> AnonymousBurstAsync(ApiFactory api, Func<int, string> forwardedFor)
    {
        var client = api.CreateClient();
        // Warm up first (health checks have no budget), so that the burst really arrives within one second.
        await client.GetAsync(new Uri("/health/live", UriKind.Relative), TestContext.Current.CancellationToken);
        return await Task.WhenAll(Enumerable.Range(0, 8).Select(async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/v1/providers", UriKind.Relative));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "agg_test_" + new string('z', 43));
            request.Headers.Add("X-Forwarded-For", forwardedFor(i));
            using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
            return response.StatusCode;
        }));
    }

    private static async Task<HttpResponseMessage> WithBasic(ApiFactory api, string user, string password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/hangfire", UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        return await api.CreateClient().SendAsync(request, TestContext.Current.CancellationToken);
    }

    /// <summary>Makes every request arrive from <paramref name="address"/> (the in-process test server has none).</summary>
    private sealed class FromAddress(IPAddress address) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, following) =>
            {
                context.Connection.RemoteIpAddress = address;
                return following(context);
            });
            next(app);
        };
    }
}
