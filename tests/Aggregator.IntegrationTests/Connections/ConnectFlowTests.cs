using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aggregator.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Aggregator.IntegrationTests.Connections;

/// <summary>The SMART standalone launch against the sandbox, through its real login and consent forms.</summary>
public sealed class ConnectFlowTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox)
{
    private const string ReturnUrl = "https://coral.example/connected";

    [Fact]
    public async Task The_directory_lists_the_sandbox_personas_with_their_fhir_versions()
    {
        var nextgen = await Tenant.GetJsonAsync("/v1/providers?q=NextGen sandbox");

        var items = nextgen.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["DSTU2", "R4"], items.Select(i => i.GetProperty("fhirVersion").GetString()).Order());
        Assert.All(items, i => Assert.StartsWith(Sandbox.Root.AbsoluteUri + "nextgen/fhir/", i.GetProperty("fhirBaseUrl").GetString(), StringComparison.Ordinal));
        Assert.Contains(items, i => i.GetProperty("name").GetString()!.Contains("NextGen", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Connecting_to_an_r4_persona_ends_connected_with_the_tokens_encrypted_at_rest()
    {
        var login = Sandbox.Login("nextgen", "R4", 0);
        var (connectionId, authorizeUrl) = await StartAsync("sandbox-nextgen-r4", "p-r4");

        var landing = await Browser().ConnectAsync(authorizeUrl, login);

        Assert.Equal("connected", Query(landing, "status"));
        Assert.Equal(connectionId.ToString(), Query(landing, "connection_id"));
        Assert.StartsWith(ReturnUrl + "?", landing.AbsoluteUri, StringComparison.Ordinal);
        var confirmed = await Tenant.ConfirmAsync(connectionId, landing);
        Assert.Equal("active", confirmed.GetProperty("status").GetString());
        var connection = await Tenant.GetJsonAsync($"/v1/connections/{connectionId}");
        Assert.Equal("active", connection.GetProperty("status").GetString());
        Assert.Equal(login.PatientId, connection.GetProperty("providerPatientId").GetString());
        Assert.Contains("offline_access", connection.GetProperty("grantedScopes").GetString(), StringComparison.Ordinal);

        var tokens = await ReadTokensAsync(connectionId);
        var row = await RawRowAsync("connections", connectionId);
        Assert.DoesNotContain(tokens.AccessToken, row, StringComparison.Ordinal);
        Assert.DoesNotContain(tokens.RefreshToken!, row, StringComparison.Ordinal);
        // The stored token really works at the provider.
        using var fhir = Sandbox.CreateClient();
        using var read = new HttpRequestMessage(HttpMethod.Get, new Uri(Sandbox.Root, $"nextgen/fhir/r4/Patient/{login.PatientId}"));
        read.Headers.Authorization = new("Bearer", tokens.AccessToken);
        Assert.Equal(HttpStatusCode.OK, (await fhir.SendAsync(read, TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task Connecting_to_the_nextgen_dstu2_base_works_the_same_way()
    {
        var login = Sandbox.Login("nextgen", "DSTU2", 0);
        var (connectionId, authorizeUrl) = await StartAsync("sandbox-nextgen-dstu2", "p-dstu2");

        var landing = await Browser().ConnectAsync(authorizeUrl, login);

        Assert.Equal("connected", Query(landing, "status"));
        await Tenant.ConfirmAsync(connectionId, landing);
        var connection = await Tenant.GetJsonAsync($"/v1/connections/{connectionId}");
        Assert.Equal(login.PatientId, connection.GetProperty("providerPatientId").GetString());
        Assert.Equal("active", connection.GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_authorize_url_carries_state_pkce_s256_and_the_fhir_base_as_aud()
    {
        var (_, authorizeUrl) = await StartAsync("sandbox-epic-r4", "p-params");

        var query = QueryHelpers.ParseQuery(authorizeUrl.Query);
        Assert.Equal("code", query["response_type"].ToString());
        Assert.Equal("S256", query["code_challenge_method"].ToString());
        Assert.Equal(43, query["code_challenge"].ToString().Length);
        Assert.True(query["state"].ToString().Length >= 22, "state must carry at least 128 random bits");
        Assert.Equal(Sandbox.Root.AbsoluteUri + "epic/fhir/r4/", query["aud"].ToString());
        Assert.Equal(ApiFactory.PublicBaseUrl + "/v1/oauth/callback", query["redirect_uri"].ToString());
        var scopes = query["scope"].ToString().Split(' ');
        Assert.Superset(new HashSet<string> { "launch/patient", "openid", "fhirUser", "offline_access" }, scopes.ToHashSet());
        Assert.Contains(scopes, s => s is "patient/*.rs" or "patient/*.read");
    }

    [Fact]
    public async Task A_replayed_callback_is_refused_and_changes_nothing()
    {
        var login = Sandbox.Login("epic", "R4", 1);
        var (connectionId, authorizeUrl) = await StartAsync("sandbox-epic-r4", "p-replay");
        var browser = Browser();
        var callback = await browser.AuthorizeAsync(authorizeUrl, login);
        Assert.Equal("connected", Query(await browser.CallbackAsync(callback), "status"));
        var before = await ReadTokensAsync(connectionId);

        var replay = await browser.CallbackAsync(callback);

        Assert.Equal("error", Query(replay, "status"));
        Assert.Equal("invalid_state", Query(replay, "reason"));
        Assert.Equal(before, await ReadTokensAsync(connectionId));
    }

    [Fact]
    public async Task A_patient_who_unticks_offline_access_grants_no_offline_access()
    {
        var login = Sandbox.Login("cerner", "R4", 2);
        var (connectionId, authorizeUrl) = await StartAsync("sandbox-cerner-r4", "p-narrow");

        var landing = await Browser().ConnectAsync(authorizeUrl, login, keepScope: scope => scope != "offline_access");

        Assert.Equal("connected", Query(landing, "status"));
        await Tenant.ConfirmAsync(connectionId, landing);
        var connection = await Tenant.GetJsonAsync($"/v1/connections/{connectionId}");
        Assert.DoesNotContain("offline_access", connection.GetProperty("grantedScopes").GetString(), StringComparison.Ordinal);
        Assert.Null((await ReadTokensAsync(connectionId)).RefreshToken);
    }

    [Fact]
    public async Task A_patient_who_denies_ends_on_the_return_url_denied_and_nothing_is_connected()
    {
        var login = Sandbox.Login("nextgen", "R4", 3);
        var (connectionId, authorizeUrl) = await StartAsync("sandbox-nextgen-r4", "p-deny");

        var landing = await Browser().ConnectAsync(authorizeUrl, login, allow: false);

        Assert.Equal("denied", Query(landing, "status"));
        Assert.Equal("access_denied", Query(landing, "reason"));
        var connection = await Tenant.GetJsonAsync($"/v1/connections/{connectionId}");
        Assert.NotEqual("active", connection.GetProperty("status").GetString());
        await using var db = Database.CreateContext();
        Assert.Null((await db.Connections.SingleAsync(c => c.Id == connectionId, TestContext.Current.CancellationToken)).TokenSetProtected);
    }

    [Fact]
    public async Task An_unregistered_return_url_or_unknown_provider_is_a_problem_and_stores_nothing()
    {
        var patient = await Tenant.PutPatientAsync("p-bad-input");
        var provider = await ProviderIdAsync("sandbox-epic-r4");

        var wrongUrl = await Tenant.PostAsJsonAsync(new Uri($"/v1/patients/{patient.GetProperty("id").GetGuid()}/connections", UriKind.Relative),
            new { providerId = provider, returnUrl = ReturnUrl + "/elsewhere" }, TestContext.Current.CancellationToken);
        var unknownProvider = await Tenant.PostAsJsonAsync(new Uri($"/v1/patients/{patient.GetProperty("id").GetGuid()}/connections", UriKind.Relative),
            new { providerId = Guid.NewGuid(), returnUrl = ReturnUrl }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, wrongUrl.StatusCode);
        Assert.Equal("urn:aggregator:problem:return-url-not-registered", (await wrongUrl.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("type").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, unknownProvider.StatusCode);
        Assert.Equal("urn:aggregator:problem:unknown-provider", (await unknownProvider.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("type").GetString());
        await using var db = Database.CreateContext();
        Assert.Equal(0, await db.Connections.CountAsync(TestContext.Current.CancellationToken));
        Assert.Equal(0, await db.AuthRequests.CountAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_callback_with_a_forged_state_is_a_400_problem()
    {
        var response = await Api.CreateClient().GetAsync(new Uri("/v1/oauth/callback?code=abc&state=forged-state", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal("urn:aggregator:problem:invalid-state", problem.GetProperty("type").GetString());
    }

    [Fact]
    public async Task AnotherTenant_gets_404_for_the_patients_and_connections_it_does_not_own()
    {
        var login = Sandbox.Login("nextgen", "R4", 4);
        var (connectionId, authorizeUrl) = await StartAsync("sandbox-nextgen-r4", "p-isolated");
        await Browser().ConnectAsync(authorizeUrl, login);
        var (other, _) = await Api.CreateTenantClientAsync("Other App", ReturnUrl);
        var patientId = (await Tenant.GetJsonAsync($"/v1/connections/{connectionId}")).GetProperty("patientId").GetGuid();

        var connection = await other.GetAsync(new Uri($"/v1/connections/{connectionId}", UriKind.Relative), TestContext.Current.CancellationToken);
        var list = await other.GetAsync(new Uri($"/v1/patients/{patientId}/connections", UriKind.Relative), TestContext.Current.CancellationToken);
        var connect = await other.PostAsJsonAsync(new Uri($"/v1/patients/{patientId}/connections", UriKind.Relative),
            new { providerId = await ProviderIdAsync("sandbox-epic-r4"), returnUrl = ReturnUrl }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, connection.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, list.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, connect.StatusCode);
    }

    private async Task<(Guid ConnectionId, Uri AuthorizeUrl)> StartAsync(string providerQuery, string externalId)
    {
        var patient = await Tenant.PutPatientAsync(externalId);
        var response = await Tenant.PostAsJsonAsync(new Uri($"/v1/patients/{patient.GetProperty("id").GetGuid()}/connections", UriKind.Relative),
            new { providerId = await ProviderIdAsync(providerQuery), returnUrl = ReturnUrl });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (body.GetProperty("connectionId").GetGuid(), new Uri(body.GetProperty("authorizeUrl").GetString()!));
    }

    private async Task<Guid> ProviderIdAsync(string query)
    {
        var page = await Tenant.GetJsonAsync("/v1/providers?q=" + Uri.EscapeDataString(query));
        return page.GetProperty("items").EnumerateArray().Single().GetProperty("id").GetGuid();
    }

    private async Task<string> RawRowAsync(string table, Guid id)
    {
        await using var connection = new NpgsqlConnection(Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT row_to_json(t)::text FROM {table} t WHERE id = @id", connection);
        command.Parameters.AddWithValue("id", id);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static string? Query(Uri uri, string name) =>
        QueryHelpers.ParseQuery(uri.Query).TryGetValue(name, out var value) ? value.ToString() : null;
}
