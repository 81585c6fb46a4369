using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Aggregator.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.IntegrationTests.Connections;

/// <summary>Disconnect, reconnect and patient session tokens, against the sandbox.</summary>
public sealed class ConnectionManagementTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox)
{
    private const string ReturnUrl = "https://coral.example/connected";

    [Fact]
    public async Task Disconnecting_revokes_the_grant_at_the_provider_and_destroys_our_tokens()
    {
        var login = Sandbox.Login("nextgen", "R4", 5);
        var (patientId, connectionId) = await ConnectAsync("sandbox-nextgen-r4", "p-disconnect", login);
        var tokens = await ReadTokensAsync(connectionId);

        var response = await Tenant.DeleteAsync(new Uri($"/v1/connections/{connectionId}", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var connection = await Tenant.GetJsonAsync($"/v1/connections/{connectionId}");
        Assert.Equal("revoked", connection.GetProperty("status").GetString());
        await using (var db = Database.CreateContext())
        {
            Assert.Null((await db.Connections.SingleAsync(c => c.Id == connectionId, TestContext.Current.CancellationToken)).TokenSetProtected);
        }

        // The old refresh token no longer works at the Sandbox.
        using var refresh = new HttpRequestMessage(HttpMethod.Post, new Uri(Sandbox.Root, "oauth/token"))
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = tokens.RefreshToken! }),
        };
        refresh.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("nextgen-confidential-app:nextgen-sandbox-secret")));
        using var client = Sandbox.CreateClient();
        var refused = await client.SendAsync(refresh, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("invalid_grant", (await refused.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("error").GetString());
        Assert.NotEqual(Guid.Empty, patientId);
    }

    [Fact]
    public async Task Reconnecting_with_another_portal_account_is_refused_as_patient_mismatch_and_keeps_the_connection()
    {
        var first = Sandbox.Login("epic", "R4", 2);
        var other = Sandbox.Login("epic", "R4", 3);
        var (_, connectionId) = await ConnectAsync("sandbox-epic-r4", "p-mismatch", first);
        var before = await ReadTokensAsync(connectionId);

        var reconnect = await Tenant.PostAsJsonAsync(new Uri($"/v1/connections/{connectionId}/reconnect", UriKind.Relative), new { returnUrl = ReturnUrl }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, reconnect.StatusCode);
        var authorizeUrl = new Uri((await reconnect.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("authorizeUrl").GetString()!);
        var landing = await Browser().ConnectAsync(authorizeUrl, other);

        Assert.Equal("error", Query(landing, "status"));
        Assert.Equal("patient_mismatch", Query(landing, "reason"));
        var connection = await Tenant.GetJsonAsync($"/v1/connections/{connectionId}");
        Assert.Equal("active", connection.GetProperty("status").GetString());
        Assert.Equal(first.PatientId, connection.GetProperty("providerPatientId").GetString());
        Assert.Equal(before, await ReadTokensAsync(connectionId));
    }

    [Fact]
    public async Task Reconnecting_with_the_same_account_renews_the_tokens_of_the_same_connection()
    {
        var login = Sandbox.Login("cerner", "R4", 4);
        var (_, connectionId) = await ConnectAsync("sandbox-cerner-r4", "p-renew", login);
        var before = await ReadTokensAsync(connectionId);

        var reconnect = await Tenant.PostAsJsonAsync(new Uri($"/v1/connections/{connectionId}/reconnect", UriKind.Relative), new { returnUrl = ReturnUrl }, TestContext.Current.CancellationToken);
        var authorizeUrl = new Uri((await reconnect.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("authorizeUrl").GetString()!);
        var landing = await Browser().ConnectAsync(authorizeUrl, login);

        Assert.Equal("connected", Query(landing, "status"));
        Assert.Equal(connectionId.ToString(), Query(landing, "connection_id"));
        Assert.NotEqual(before.AccessToken, (await ReadTokensAsync(connectionId)).AccessToken);
        var list = await Tenant.GetJsonAsync($"/v1/patients/{(await Tenant.GetJsonAsync($"/v1/connections/{connectionId}")).GetProperty("patientId").GetGuid()}/connections");
        Assert.Single(list.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task A_patient_session_token_reads_its_patient_and_connects_it_but_nothing_else()
    {
        var mine = (await Tenant.PutPatientAsync("p-session")).GetProperty("id").GetGuid();
        var someoneElse = (await Tenant.PutPatientAsync("p-other")).GetProperty("id").GetGuid();
        var minted = await Tenant.PostAsJsonAsync(new Uri($"/v1/patients/{mine}/session-tokens", UriKind.Relative), new { lifetimeMinutes = 5 }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, minted.StatusCode);
        var token = (await minted.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("token").GetString()!;
        var frontend = Api.CreateClient().WithBearer(token);
        var provider = (await Tenant.GetJsonAsync("/v1/providers?q=sandbox-epic-r4")).GetProperty("items")[0].GetProperty("id").GetGuid();

        var own = await frontend.GetAsync(new Uri($"/v1/patients/{mine}", UriKind.Relative), TestContext.Current.CancellationToken);
        var other = await frontend.GetAsync(new Uri($"/v1/patients/{someoneElse}", UriKind.Relative), TestContext.Current.CancellationToken);
        var list = await frontend.GetAsync(new Uri("/v1/patients", UriKind.Relative), TestContext.Current.CancellationToken);
        var connectOwn = await frontend.PostAsJsonAsync(new Uri($"/v1/patients/{mine}/connections", UriKind.Relative), new { providerId = provider, returnUrl = ReturnUrl }, TestContext.Current.CancellationToken);
        var connectOther = await frontend.PostAsJsonAsync(new Uri($"/v1/patients/{someoneElse}/connections", UriKind.Relative), new { providerId = provider, returnUrl = ReturnUrl }, TestContext.Current.CancellationToken);
        var mintMore = await frontend.PostAsJsonAsync(new Uri($"/v1/patients/{mine}/session-tokens", UriKind.Relative), new { }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, list.StatusCode);
        Assert.Equal(HttpStatusCode.Created, connectOwn.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, connectOther.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, mintMore.StatusCode);
    }

    [Fact]
    public async Task A_tampered_or_expired_session_token_is_401()
    {
        var mine = (await Tenant.PutPatientAsync("p-tamper")).GetProperty("id").GetGuid();
        var minted = await Tenant.PostAsJsonAsync(new Uri($"/v1/patients/{mine}/session-tokens", UriKind.Relative), new { }, TestContext.Current.CancellationToken);
        var token = (await minted.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("token").GetString()!;
        var tampered = token[..^4] + (token[^4..] == "AAAA" ? "BBBB" : "AAAA");

        var response = await Api.CreateClient().WithBearer(tampered).GetAsync(new Uri($"/v1/patients/{mine}", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private Task<(Guid PatientId, Guid ConnectionId)> ConnectAsync(string providerSlug, string externalId, SandboxLogin login) =>
        Api.ConnectAsync(Tenant, Sandbox, providerSlug, login, externalId);

    private static string? Query(Uri uri, string name) =>
        QueryHelpers.ParseQuery(uri.Query).TryGetValue(name, out var value) ? value.ToString() : null;
}
