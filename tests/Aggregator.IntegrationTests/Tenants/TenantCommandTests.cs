using System.Net;
using Aggregator.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.IntegrationTests.Tenants;

/// <summary>The operator CLI, run as a real process from the Api's build.</summary>
public sealed class TenantCommandTests(PostgresServer server) : IAsyncLifetime
{
    private readonly TestDatabase _database = new(server);

    public ValueTask InitializeAsync() => _database.InitializeAsync();

    public ValueTask DisposeAsync() => _database.DisposeAsync();

    [Fact]
    public async Task Tenants_create_prints_a_working_api_key_alone_on_the_last_line()
    {
        var (code, stdout, _) = await RunCliAsync("tenants", "create", "Coral Health", "--return-url", "https://coral.example/connected");

        Assert.Equal(0, code);
        var key = OperatorCli.LastLine(stdout);
        Assert.Matches("^agg_test_[A-Za-z0-9_-]{43}$", key);
        await using (var db = _database.CreateContext())
        {
            var tenant = await db.Tenants.SingleAsync(t => t.Name == "Coral Health", TestContext.Current.CancellationToken);
            Assert.Equal(["https://coral.example/connected"], tenant.ReturnUrls);
        }

        await using var api = new ApiFactory(_database.ConnectionString);
        var response = await api.CreateClient().WithBearer(key).GetAsync(new Uri("/v1/patients", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Tenants_demo_issues_a_fresh_key_each_time_and_revokes_the_previous_one()
    {
        var (_, first, _) = await RunCliAsync("tenants", "demo", "--return-url", "http://127.0.0.1:5080/demo/return");
        var (code, second, _) = await RunCliAsync("tenants", "demo");

        Assert.Equal(0, code);
        var firstKey = OperatorCli.LastLine(first);
        var secondKey = OperatorCli.LastLine(second);
        Assert.NotEqual(firstKey, secondKey);
        await using var api = new ApiFactory(_database.ConnectionString);
        var old = await api.CreateClient().WithBearer(firstKey).GetAsync(new Uri("/v1/patients", UriKind.Relative), TestContext.Current.CancellationToken);
        var fresh = await api.CreateClient().WithBearer(secondKey).GetAsync(new Uri("/v1/patients", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, old.StatusCode);
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        await using var db = _database.CreateContext();
        Assert.Equal(1, await db.Tenants.CountAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_bad_return_url_is_refused_with_a_message_and_nothing_is_stored()
    {
        var (code, _, stderr) = await RunCliAsync("tenants", "create", "Coral Health", "--return-url", "not a url");

        Assert.NotEqual(0, code);
        Assert.Contains("not a valid return url", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        await using var db = _database.CreateContext();
        Assert.Equal(0, await db.Tenants.CountAsync(TestContext.Current.CancellationToken));
    }

    private Task<(int Code, string Stdout, string Stderr)> RunCliAsync(params string[] args) =>
        OperatorCli.RunAsync(_database.ConnectionString, args);
}
