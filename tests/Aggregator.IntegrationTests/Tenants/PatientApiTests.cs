using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Aggregator.Infrastructure.Tenants;
using Aggregator.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.IntegrationTests.Tenants;

public sealed class PatientApiTests(PostgresServer server) : IAsyncLifetime
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
    public async Task Putting_a_patient_twice_returns_the_same_patient_created_once()
    {
        var (client, _) = await _api.CreateTenantClientAsync("Coral Health");

        var first = await client.PutAsJsonAsync(new Uri("/v1/patients/member-42", UriKind.Relative), new { }, TestContext.Current.CancellationToken);
        using var noBody = new HttpRequestMessage(HttpMethod.Put, "/v1/patients/member-42");
        var second = await client.SendAsync(noBody, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var a = await first.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var b = await second.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal(a.GetProperty("id").GetGuid(), b.GetProperty("id").GetGuid());
        Assert.Equal("member-42", b.GetProperty("externalId").GetString());
        Assert.Equal($"/v1/patients/{a.GetProperty("id").GetGuid()}", first.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Concurrent_puts_of_one_external_id_agree_on_one_patient()
    {
        var (client, _) = await _api.CreateTenantClientAsync("Coral Health");

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => client.PutPatientAsync("same-person")));

        Assert.Single(results.Select(r => r.GetProperty("id").GetGuid()).Distinct());
    }

    [Fact]
    public async Task A_patient_is_read_back_by_id_and_an_unknown_id_is_404()
    {
        var (client, _) = await _api.CreateTenantClientAsync("Coral Health");
        var created = await client.PutPatientAsync("p-1");

        var read = await client.GetJsonAsync($"/v1/patients/{created.GetProperty("id").GetGuid()}");
        var missing = await client.GetAsync(new Uri($"/v1/patients/{Guid.NewGuid()}", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal("p-1", read.GetProperty("externalId").GetString());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Another_tenant_gets_404_for_every_patient_it_does_not_own_and_never_lists_them()
    {
        var (coral, _) = await _api.CreateTenantClientAsync("Coral Health");
        var (other, _) = await _api.CreateTenantClientAsync("Other App");
        var coralPatient = await coral.PutPatientAsync("shared-external-id");
        var otherPatient = await other.PutPatientAsync("shared-external-id");

        var response = await other.GetAsync(new Uri($"/v1/patients/{coralPatient.GetProperty("id").GetGuid()}", UriKind.Relative), TestContext.Current.CancellationToken);
        var otherList = await other.GetJsonAsync("/v1/patients");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.NotEqual(coralPatient.GetProperty("id").GetGuid(), otherPatient.GetProperty("id").GetGuid());
        var listed = otherList.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("id").GetGuid()).ToList();
        Assert.Equal([otherPatient.GetProperty("id").GetGuid()], listed);
    }

    [Fact]
    public async Task The_patient_list_pages_with_cursors_through_every_patient_once()
    {
        var (client, _) = await _api.CreateTenantClientAsync("Coral Health");
        var ids = new List<Guid>();
        for (var i = 0; i < 7; i++)
        {
            ids.Add((await client.PutPatientAsync($"p-{i}")).GetProperty("id").GetGuid());
        }

        var seen = new List<Guid>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await client.GetJsonAsync("/v1/patients?limit=3" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("id").GetGuid()));
            cursor = page.GetProperty("nextCursor").GetString();
            pages++;
        }
        while (cursor is not null && pages < 10);

        Assert.Equal(3, pages);
        Assert.Equal(ids.Order().ToList(), seen.Order().ToList());
        Assert.Equal(seen.Count, seen.Distinct().Count());
    }

    [Fact]
    public async Task A_cursor_we_did_not_issue_is_a_400_problem()
    {
        var (client, _) = await _api.CreateTenantClientAsync("Coral Health");

        var response = await client.GetAsync(new Uri("/v1/patients?cursor=bm90LW91cnM", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal("urn:aggregator:problem:invalid-cursor", problem.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Calls_without_a_valid_key_get_401_with_a_bearer_challenge()
    {
        var anonymous = _api.CreateClient();
        var wrongKey = _api.CreateClient().WithBearer("agg_test_" + new string('A', 43));

        var none = await anonymous.GetAsync(new Uri("/v1/patients", UriKind.Relative), TestContext.Current.CancellationToken);
        var wrong = await wrongKey.GetAsync(new Uri("/v1/patients", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.StartsWith("Bearer", wrong.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Contains("invalid_token", wrong.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal("application/problem+json", wrong.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_revoked_key_stops_working_at_once_and_its_last_use_was_recorded()
    {
        var (client, key) = await _api.CreateTenantClientAsync("Coral Health");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/v1/patients", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        await _api.Services.GetRequiredService<ApiKeyUsage>().FlushAsync(TestContext.Current.CancellationToken);

        await using (var scope = _api.Services.CreateOperatorScope())
        {
            Assert.True(await scope.ServiceProvider.GetRequiredService<TenantAdministration>().RevokeKeyAsync(key.Prefix, TestContext.Current.CancellationToken));
        }

        var afterRevoke = await WaitForStatusAsync(client, HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.Unauthorized, afterRevoke);
        await using var db = _database.CreateContext();
        var stored = await db.ApiKeys.SingleAsync(k => k.Id == key.KeyId, TestContext.Current.CancellationToken);
        Assert.NotNull(stored.LastUsedAt);
        Assert.NotNull(stored.RevokedAt);
    }

    [Fact]
    public async Task Only_a_hash_and_prefix_of_a_key_are_stored()
    {
        var (_, key) = await _api.CreateTenantClientAsync("Coral Health");

        await using var db = _database.CreateContext();
        var stored = await db.ApiKeys.SingleAsync(k => k.Id == key.KeyId, TestContext.Current.CancellationToken);
        var secretPart = key.Key[stored.Prefix.Length..];

        Assert.StartsWith("agg_test_", key.Key, StringComparison.Ordinal);
        Assert.StartsWith(stored.Prefix, key.Key, StringComparison.Ordinal);
        var row = JsonSerializer.Serialize(stored);
        Assert.DoesNotContain(secretPart, row, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(key.Key)), row, StringComparison.Ordinal);
    }

    /// <summary>Revocation reaches the cache through NOTIFY, which is asynchronous: poll briefly.</summary>
    private static async Task<HttpStatusCode> WaitForStatusAsync(HttpClient client, HttpStatusCode wanted)
    {
        var status = HttpStatusCode.OK;
        for (var i = 0; i < 50 && status != wanted; i++)
        {
            status = (await client.GetAsync(new Uri("/v1/patients", UriKind.Relative))).StatusCode;
            if (status != wanted)
            {
                await Task.Delay(100);
            }
        }

        return status;
    }
}
