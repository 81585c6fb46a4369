using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aggregator.Infrastructure.Connections;
using Aggregator.Infrastructure.Tenants;
using Aggregator.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Aggregator.IntegrationTests.Connections;

/// <summary>Link sessions over the API (the Connect page's browser journeys are in Browser/ConnectPageTests).</summary>
public sealed class LinkSessionTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox,
    configureServices: services => services.AddSingleton<TimeProvider>(new FakeTimeProvider(DateTimeOffset.UtcNow)),
    settings: new Dictionary<string, string?> { ["Api:WebBaseUrl"] = "https://connect.coral.example" })
{
    private FakeTimeProvider Clock => (FakeTimeProvider)Api.Services.GetRequiredService<TimeProvider>();

    [Fact]
    public async Task A_session_is_created_only_for_a_registered_return_url_and_an_own_patients_confirmed_connection()
    {
        var patientId = await PatientAsync("ls-create");
        var otherPatient = await PatientAsync("ls-other");
        var session = await SessionClientAsync(patientId);

        var created = await CreateAsync(Tenant, patientId, ConnectedPatients.ReturnUrl);
        var bySession = await CreateAsync(session, patientId, ConnectedPatients.ReturnUrl);
        var forOther = await CreateAsync(session, otherPatient, ConnectedPatients.ReturnUrl);
        var unregistered = await CreateAsync(Tenant, patientId, ConnectedPatients.ReturnUrl + "/x");
        var strangeConnection = await CreateAsync(Tenant, patientId, ConnectedPatients.ReturnUrl, Guid.NewGuid());

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var url = new Uri(body.GetProperty("url").GetString()!);
        Assert.Equal("https://connect.coral.example/connect/start", url.GetLeftPart(UriPartial.Path));
        Assert.StartsWith(LinkSessions.LinkTokenPrefix, QueryHelpers.ParseQuery(url.Query)["token"].ToString(), StringComparison.Ordinal);
        Assert.InRange(body.GetProperty("expiresAt").GetDateTimeOffset() - Clock.GetUtcNow(), TimeSpan.FromMinutes(29), TimeSpan.FromMinutes(31));
        Assert.Equal(HttpStatusCode.Created, bySession.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, forOther.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, unregistered.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, strangeConnection.StatusCode);
    }

    [Fact]
    public async Task The_link_token_opens_once_and_its_credential_reaches_only_the_directory_and_its_own_session()
    {
        var patientId = await PatientAsync("ls-open");
        var (sessionId, token) = await NewSessionAsync(patientId);
        var anonymous = Api.CreateClient();

        var opened = await anonymous.PostAsJsonAsync(new Uri("/v1/link-sessions/open", UriKind.Relative), new { token }, TestContext.Current.CancellationToken);
        var twice = await anonymous.PostAsJsonAsync(new Uri("/v1/link-sessions/open", UriKind.Relative), new { token }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, twice.StatusCode);
        var credential = (await opened.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("credential").GetString()!;
        var page = Api.CreateClient().WithBearer(credential);
        Assert.Equal(HttpStatusCode.OK, (await page.GetAsync(new Uri("/v1/providers?q=epic", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        var view = await page.GetJsonAsync($"/v1/link-sessions/{sessionId}");
        Assert.Equal("Coral Health", view.GetProperty("tenantName").GetString());
        Assert.Equal("connect", view.GetProperty("mode").GetString());
        // It reads no patient data, and no other session.
        Assert.Equal(HttpStatusCode.Forbidden, (await page.GetAsync(new Uri($"/v1/patients/{patientId}/record", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await page.GetAsync(new Uri($"/v1/patients/{patientId}/connections", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        var (otherSession, _) = await NewSessionAsync(patientId);
        Assert.Equal(HttpStatusCode.NotFound, (await page.GetAsync(new Uri($"/v1/link-sessions/{otherSession}", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        // Nothing is connected before the patient accepts the data-use statement.
        var provider = (await Tenant.GetJsonAsync("/v1/providers?q=sandbox-epic-r4")).GetProperty("items")[0].GetProperty("id").GetGuid();
        var early = await page.PostAsJsonAsync(new Uri($"/v1/link-sessions/{sessionId}/connections", UriKind.Relative), new { providerId = provider }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await page.PostAsync(new Uri($"/v1/link-sessions/{sessionId}/consent", UriKind.Relative), null, TestContext.Current.CancellationToken)).StatusCode);
        var started = await page.PostAsJsonAsync(new Uri($"/v1/link-sessions/{sessionId}/connections", UriKind.Relative), new { providerId = provider }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
    }

    [Fact]
    public async Task A_session_left_unfinished_expires_with_a_webhook_and_takes_its_unconfirmed_connections_with_it()
    {
        await using (var scope = Api.Services.CreateOperatorScope())
        {
            await scope.ServiceProvider.GetRequiredService<TenantAdministration>()
                .UpdateTenantAsync(TenantId, new TenantSettings([ConnectedPatients.ReturnUrl], null, new Uri("http://127.0.0.1:9/hooks")), CancellationToken.None);
        }

        var patientId = await PatientAsync("ls-expire");
        var (sessionId, token) = await NewSessionAsync(patientId);
        var page = await OpenAsync(token);
        await page.PostAsync(new Uri($"/v1/link-sessions/{sessionId}/consent", UriKind.Relative), null, TestContext.Current.CancellationToken);
        var connectionId = await ConnectThroughSessionAsync(page, sessionId, "sandbox-epic-r4", Sandbox.Login("epic", "R4", 5));
        Assert.Equal(0, await SweepAsync());

        Clock.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(1, await SweepAsync());
        Assert.Equal(0, await SweepAsync());

        Assert.Equal("expired", (await Tenant.GetJsonAsync($"/v1/link-sessions/{sessionId}")).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await Tenant.GetAsync(new Uri($"/v1/connections/{connectionId}", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        await using var db = Database.CreateContext();
        var delivery = Assert.Single(await db.WebhookDeliveries.Where(d => d.EventType == "link_session.expired").ToListAsync(TestContext.Current.CancellationToken));
        var data = JsonDocument.Parse(delivery.Payload).RootElement.GetProperty("data");
        Assert.Equal(sessionId, data.GetProperty("linkSessionId").GetGuid());
        Assert.Equal("ls-expire", data.GetProperty("externalId").GetString());
        Assert.True(data.GetProperty("opened").GetBoolean());
    }

    [Fact]
    public async Task A_session_nobody_opened_expires_with_a_webhook_that_says_so()
    {
        await using (var scope = Api.Services.CreateOperatorScope())
        {
            await scope.ServiceProvider.GetRequiredService<TenantAdministration>()
                .UpdateTenantAsync(TenantId, new TenantSettings([ConnectedPatients.ReturnUrl], null, new Uri("http://127.0.0.1:9/hooks")), CancellationToken.None);
        }

        var (sessionId, token) = await NewSessionAsync(await PatientAsync("ls-unused"));
        Clock.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(1, await SweepAsync());

        Assert.Equal("expired", (await Tenant.GetJsonAsync($"/v1/link-sessions/{sessionId}")).GetProperty("status").GetString());
        var late = await Api.CreateClient().PostAsJsonAsync(new Uri("/v1/link-sessions/open", UriKind.Relative), new { token }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, late.StatusCode);
        await using var db = Database.CreateContext();
        var delivery = Assert.Single(await db.WebhookDeliveries.Where(d => d.EventType == "link_session.expired").ToListAsync(TestContext.Current.CancellationToken));
        var data = JsonDocument.Parse(delivery.Payload).RootElement.GetProperty("data");
        Assert.Equal(sessionId, data.GetProperty("linkSessionId").GetGuid());
        Assert.False(data.GetProperty("opened").GetBoolean());
    }

    [Fact]
    public async Task A_result_code_brought_back_after_the_window_is_refused_and_what_the_session_connected_is_removed()
    {
        var patientId = await PatientAsync("ls-late");
        var (sessionId, token) = await NewSessionAsync(patientId);
        var page = await OpenAsync(token);
        await page.PostAsync(new Uri($"/v1/link-sessions/{sessionId}/consent", UriKind.Relative), null, TestContext.Current.CancellationToken);
        var connectionId = await ConnectThroughSessionAsync(page, sessionId, "sandbox-cerner-r4", Sandbox.Login("cerner", "R4", 1));
        var done = await page.PostAsync(new Uri($"/v1/link-sessions/{sessionId}/complete", UriKind.Relative), null, TestContext.Current.CancellationToken);
        var redirect = new Uri((await done.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("redirectUrl").GetString()!);
        var code = QueryHelpers.ParseQuery(redirect.Query)["result_code"].ToString();

        Clock.Advance(TimeSpan.FromMinutes(16));
        var exchanged = await Tenant.PostAsJsonAsync(new Uri($"/v1/link-sessions/{sessionId}/exchange", UriKind.Relative), new { resultCode = code }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, exchanged.StatusCode);
        Assert.Equal("application/problem+json", exchanged.Content.Headers.ContentType?.MediaType);
        Assert.Equal("pending_confirmation", (await Tenant.GetJsonAsync($"/v1/connections/{connectionId}")).GetProperty("status").GetString());
        await using (var scope = Api.Services.CreateAsyncScope())
        {
            Assert.Equal(1, await scope.ServiceProvider.GetRequiredService<ConnectionConfirmationSweep>().RunAsync(TestContext.Current.CancellationToken));
        }

        Assert.Equal(HttpStatusCode.NotFound, (await Tenant.GetAsync(new Uri($"/v1/connections/{connectionId}", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task Dones_result_code_is_exchanged_once_by_the_tenant_within_the_window()
    {
        var patientId = await PatientAsync("ls-exchange");
        var (sessionId, token) = await NewSessionAsync(patientId);
        var page = await OpenAsync(token);
        await page.PostAsync(new Uri($"/v1/link-sessions/{sessionId}/consent", UriKind.Relative), null, TestContext.Current.CancellationToken);
        var connectionId = await ConnectThroughSessionAsync(page, sessionId, "sandbox-cerner-r4", Sandbox.Login("cerner", "R4", 0));
        var done = await page.PostAsync(new Uri($"/v1/link-sessions/{sessionId}/complete", UriKind.Relative), null, TestContext.Current.CancellationToken);
        var redirect = new Uri((await done.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("redirectUrl").GetString()!);
        var query = QueryHelpers.ParseQuery(redirect.Query);
        var code = query["result_code"].ToString();

        Assert.StartsWith(ConnectedPatients.ReturnUrl + "?", redirect.AbsoluteUri, StringComparison.Ordinal);
        Assert.Equal(sessionId.ToString(), query["link_session_id"].ToString());
        Assert.Equal("completed", query["status"].ToString());
        // The page can do nothing more; the code is the tenant's to redeem.
        Assert.Equal(HttpStatusCode.Conflict, (await page.PostAsync(new Uri($"/v1/link-sessions/{sessionId}/complete", UriKind.Relative), null, TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await page.PostAsJsonAsync(new Uri($"/v1/link-sessions/{sessionId}/exchange", UriKind.Relative), new { resultCode = code }, TestContext.Current.CancellationToken)).StatusCode);
        var (other, _) = await Api.CreateTenantClientAsync("Other Health", ConnectedPatients.ReturnUrl);
        Assert.Equal(HttpStatusCode.NotFound, (await other.PostAsJsonAsync(new Uri($"/v1/link-sessions/{sessionId}/exchange", UriKind.Relative), new { resultCode = code }, TestContext.Current.CancellationToken)).StatusCode);

        Clock.Advance(TimeSpan.FromMinutes(14));
        var exchanged = await Tenant.PostAsJsonAsync(new Uri($"/v1/link-sessions/{sessionId}/exchange", UriKind.Relative), new { resultCode = code }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, exchanged.StatusCode);
        var connection = Assert.Single((await exchanged.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("connections").EnumerateArray());
        Assert.Equal(connectionId, connection.GetProperty("connectionId").GetGuid());
        Assert.Equal("active", connection.GetProperty("status").GetString());
        // The connection's window started at Done: the sweep leaves it, confirmed.
        await using var scope = Api.Services.CreateAsyncScope();
        Assert.Equal(0, await scope.ServiceProvider.GetRequiredService<ConnectionConfirmationSweep>().RunAsync(TestContext.Current.CancellationToken));
    }

    private async Task<Guid> ConnectThroughSessionAsync(HttpClient page, Guid sessionId, string providerSlug, SandboxLogin login)
    {
        var provider = (await Tenant.GetJsonAsync("/v1/providers?q=" + providerSlug)).GetProperty("items")[0].GetProperty("id").GetGuid();
        var started = await page.PostAsJsonAsync(new Uri($"/v1/link-sessions/{sessionId}/connections", UriKind.Relative), new { providerId = provider });
        var body = await started.Content.ReadFromJsonAsync<JsonElement>();
        var landing = await Browser().ConnectAsync(new Uri(body.GetProperty("authorizeUrl").GetString()!), login);
        // The provider's callback ends back on the Connect page, without a code of its own.
        Assert.Equal($"https://connect.coral.example/connect/{sessionId}", landing.GetLeftPart(UriPartial.Path));
        Assert.Equal("connected", QueryHelpers.ParseQuery(landing.Query)["status"].ToString());
        Assert.False(QueryHelpers.ParseQuery(landing.Query).ContainsKey("result_code"));
        return body.GetProperty("connectionId").GetGuid();
    }

    private async Task<Guid> PatientAsync(string externalId) => (await Tenant.PutPatientAsync(externalId)).GetProperty("id").GetGuid();

    private async Task<(Guid Id, string Token)> NewSessionAsync(Guid patientId)
    {
        var response = await CreateAsync(Tenant, patientId, ConnectedPatients.ReturnUrl);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (body.GetProperty("id").GetGuid(), QueryHelpers.ParseQuery(new Uri(body.GetProperty("url").GetString()!).Query)["token"].ToString());
    }

    private async Task<HttpClient> OpenAsync(string token)
    {
        var opened = await Api.CreateClient().PostAsJsonAsync(new Uri("/v1/link-sessions/open", UriKind.Relative), new { token });
        return Api.CreateClient().WithBearer((await opened.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("credential").GetString()!);
    }

    private static Task<HttpResponseMessage> CreateAsync(HttpClient client, Guid patientId, string returnUrl, Guid? connectionId = null) =>
        client.PostAsJsonAsync(new Uri($"/v1/patients/{patientId}/link-sessions", UriKind.Relative), new { returnUrl, connectionId });


    private async Task<int> SweepAsync()
    {
        await using var scope = Api.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<LinkSessionSweep>().RunAsync(TestContext.Current.CancellationToken);
    }
}
