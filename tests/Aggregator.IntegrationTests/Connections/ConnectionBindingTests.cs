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

/// <summary>
/// A connection is bound to whoever started it: an authorize url completed by someone else syncs into
/// quarantine, shows nowhere, and is revoked and deleted unless the tenant's backend redeems the result code.
/// </summary>
public sealed class ConnectionBindingTests(PostgresServer server, SandboxProvider sandbox)
    : ApiTestBase(server, sandbox, jobServer: true, configureServices: services => services.AddSingleton<TimeProvider>(new FakeTimeProvider(DateTimeOffset.UtcNow)))
{
    /// <summary>The Api's clock: the confirmation window is passed by moving it, not by waiting.</summary>
    private FakeTimeProvider Clock => (FakeTimeProvider)Api.Services.GetRequiredService<TimeProvider>();

    [Fact]
    public async Task An_authorize_url_completed_by_someone_else_syncs_into_quarantine_shows_nowhere_and_is_revoked_after_the_window()
    {
        await UseWebhookUrlAsync();
        var victim = Sandbox.Generated("epic", "R4", 3);
        var (patientId, connectionId, authorizeUrl) = await StartAsync("attacker-patient", "sandbox-epic-r4");

        // The attacker sent the authorize url to the victim, who signs in at their provider.
        var landing = await Browser().ConnectAsync(authorizeUrl, victim);

        Assert.Equal("connected", Query(landing, "status"));
        Assert.StartsWith(ConnectionBinding.ResultCodePrefix, Query(landing, "result_code"), StringComparison.Ordinal);
        var connection = await Tenant.GetJsonAsync($"/v1/connections/{connectionId}");
        Assert.Equal("pending_confirmation", connection.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, connection.GetProperty("providerPatientId").ValueKind);

        // It syncs, but into quarantine.
        var run = await Tenant.WaitForRunAsync(connectionId);
        Assert.Equal("succeeded", run.GetProperty("status").GetString());
        Assert.True(run.GetProperty("types").GetProperty("Observation").GetProperty("fetched").GetInt32() > 0);
        await AssertNothingShowsAsync(patientId);

        var tokens = await ReadTokensAsync(connectionId);
        Clock.Advance(TimeSpan.FromMinutes(16));
        Assert.Equal(1, await SweepAsync());

        var gone = await Tenant.GetAsync(new Uri($"/v1/connections/{connectionId}", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        await using (var db = Database.CreateContext())
        {
            Assert.Equal(0, await db.SourceResources.CountAsync(r => r.ConnectionId == connectionId, TestContext.Current.CancellationToken));
        }

        // Revoked at the provider: the victim's grant no longer reads anything.
        using var fhir = Sandbox.CreateClient();
        using var read = new HttpRequestMessage(HttpMethod.Get, new Uri(Sandbox.Root, $"epic/fhir/r4/Patient/{victim.PatientId}"));
        read.Headers.Authorization = new("Bearer", tokens.AccessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, (await fhir.SendAsync(read, TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task Confirmed_with_its_result_code_the_connection_turns_active_and_its_data_shows_at_once()
    {
        await UseWebhookUrlAsync();
        var login = Sandbox.Generated("epic", "R4", 4);
        var (patientId, connectionId, authorizeUrl) = await StartAsync("confirmed-patient", "sandbox-epic-r4");
        var landing = await Browser().ConnectAsync(authorizeUrl, login);
        await Tenant.WaitForRunAsync(connectionId);
        await AssertNothingShowsAsync(patientId);

        var confirmed = await Tenant.ConfirmAsync(connectionId, landing);

        Assert.Equal(connectionId, confirmed.GetProperty("connectionId").GetGuid());
        Assert.Equal("active", confirmed.GetProperty("status").GetString());
        var record = await Tenant.GetJsonAsync($"/v1/patients/{patientId}/record");
        Assert.Contains(record.GetProperty("categories").EnumerateArray(), c => c.GetProperty("category").GetString() == "labs");
        Assert.Equal(connectionId, Assert.Single(record.GetProperty("sources").EnumerateArray()).GetProperty("connectionId").GetGuid());
        Assert.Equal(login.PatientId, (await Tenant.GetJsonAsync($"/v1/connections/{connectionId}")).GetProperty("providerPatientId").GetString());
        await using var db = Database.CreateContext();
        var events = await db.PatientEvents.Where(e => e.PatientId == patientId).OrderBy(e => e.Sequence).Select(e => e.Type).ToListAsync(TestContext.Current.CancellationToken);
        Assert.Equal(["connection.updated", "record.updated"], events);
        // From now on the tenant hears of its syncs.
        Clock.Advance(TimeSpan.FromMinutes(1));
        await Tenant.SyncNowAsync(connectionId);
        Assert.Contains(await db.WebhookDeliveries.Select(d => d.EventType).ToListAsync(TestContext.Current.CancellationToken), t => t == "sync.finished");
    }

    [Fact]
    public async Task A_result_code_is_single_use_bound_to_its_tenant_and_refused_after_the_window()
    {
        var (_, connectionId, authorizeUrl) = await StartAsync("code-patient", "sandbox-cerner-r4");
        var landing = await Browser().ConnectAsync(authorizeUrl, Sandbox.Login("cerner", "R4", 5));
        var code = Query(landing, "result_code")!;
        var (other, _) = await Api.CreateTenantClientAsync("Other Health", ConnectedPatients.ReturnUrl);

        var byOtherTenant = await ConfirmAsync(other, connectionId, code);
        var wrongCode = await ConfirmAsync(Tenant, connectionId, code + "x");
        var noCode = await Tenant.PostAsJsonAsync(new Uri($"/v1/connections/{connectionId}/confirm", UriKind.Relative), new { }, TestContext.Current.CancellationToken);
        var first = await ConfirmAsync(Tenant, connectionId, code);
        var again = await ConfirmAsync(Tenant, connectionId, code);

        Assert.Equal(HttpStatusCode.NotFound, byOtherTenant.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, wrongCode.StatusCode);
        Assert.Equal("urn:aggregator:problem:invalid-result-code", await ProblemTypeAsync(wrongCode));
        Assert.Equal(HttpStatusCode.BadRequest, noCode.StatusCode);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Equal("urn:aggregator:problem:invalid-result-code", await ProblemTypeAsync(again));

        // A second binding whose code comes back too late.
        var (_, lateId, lateUrl) = await StartAsync("late-patient", "sandbox-cerner-r4");
        var lateLanding = await Browser().ConnectAsync(lateUrl, Sandbox.Login("cerner", "R4", 6));
        Clock.Advance(TimeSpan.FromMinutes(16));
        var late = await ConfirmAsync(Tenant, lateId, Query(lateLanding, "result_code")!);
        Assert.Equal(HttpStatusCode.BadRequest, late.StatusCode);
        Assert.Equal("pending_confirmation", (await Tenant.GetJsonAsync($"/v1/connections/{lateId}")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Reauthorising_a_confirmed_connection_for_the_same_patient_needs_no_confirmation()
    {
        var login = Sandbox.Login("nextgen", "R4", 5);
        var (_, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-nextgen-r4", login, "reauthorised-patient");

        var reconnect = await Tenant.PostAsJsonAsync(new Uri($"/v1/connections/{connectionId}/reconnect", UriKind.Relative),
            new { returnUrl = ConnectedPatients.ReturnUrl }, TestContext.Current.CancellationToken);
        var authorizeUrl = new Uri((await reconnect.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("authorizeUrl").GetString()!);
        var landing = await Browser().ConnectAsync(authorizeUrl, login);

        Assert.Equal("connected", Query(landing, "status"));
        Assert.Equal("active", (await Tenant.GetJsonAsync($"/v1/connections/{connectionId}")).GetProperty("status").GetString());
        Clock.Advance(TimeSpan.FromMinutes(16));
        Assert.Equal(0, await SweepAsync());
        Assert.Equal("active", (await Tenant.GetJsonAsync($"/v1/connections/{connectionId}")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_connect_attempt_nobody_finished_is_swept_once_its_authorization_request_expired()
    {
        var (_, connectionId, _) = await StartAsync("abandoned-patient", "sandbox-epic-r4");
        Assert.Equal(0, await SweepAsync());

        Clock.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(1, await SweepAsync());

        var gone = await Tenant.GetAsync(new Uri($"/v1/connections/{connectionId}", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task An_unconfirmed_connection_is_swept_after_the_window_even_when_it_was_disconnected_meanwhile()
    {
        var login = Sandbox.Generated("epic", "R4", 5);
        var (patientId, connectionId, authorizeUrl) = await StartAsync("disconnected-unconfirmed", "sandbox-epic-r4");
        await Browser().ConnectAsync(authorizeUrl, login);
        await Tenant.WaitForRunAsync(connectionId);

        // Disconnected without purge: revoked, its data kept, and never confirmed.
        var disconnected = await Tenant.DeleteAsync(new Uri($"/v1/connections/{connectionId}", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NoContent, disconnected.StatusCode);
        Assert.Equal("revoked", (await Tenant.GetJsonAsync($"/v1/connections/{connectionId}")).GetProperty("status").GetString());
        await AssertNothingShowsAsync(patientId);

        Clock.Advance(TimeSpan.FromMinutes(16));
        Assert.Equal(1, await SweepAsync());

        var gone = await Tenant.GetAsync(new Uri($"/v1/connections/{connectionId}", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        await using var db = Database.CreateContext();
        Assert.Equal(0, await db.SourceResources.CountAsync(r => r.ConnectionId == connectionId, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_session_token_cannot_confirm_a_binding_nor_disconnect_another_patients_connection()
    {
        var (patientId, connectionId, authorizeUrl) = await StartAsync("session-confirm", "sandbox-cerner-r4");
        var landing = await Browser().ConnectAsync(authorizeUrl, Sandbox.Login("cerner", "R4", 7));
        var code = Query(landing, "result_code")!;
        var own = await SessionClientAsync(patientId);
        var otherPatient = (await Tenant.PutPatientAsync("session-confirm-other")).GetProperty("id").GetGuid();
        var other = await SessionClientAsync(otherPatient);

        // Only the tenant's backend redeems a result code: not the patient's own session, nor anyone else's.
        var byOwnSession = await ConfirmAsync(own, connectionId, code);
        var byOtherSession = await ConfirmAsync(other, connectionId, code);
        var disconnectByOther = await other.DeleteAsync(new Uri($"/v1/connections/{connectionId}", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, byOwnSession.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, byOtherSession.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, disconnectByOther.StatusCode);
        Assert.Equal("pending_confirmation", (await Tenant.GetJsonAsync($"/v1/connections/{connectionId}")).GetProperty("status").GetString());
        // The code is still good for the tenant: the refused attempts did not spend it.
        var byTenant = await ConfirmAsync(Tenant, connectionId, code);
        Assert.Equal(HttpStatusCode.OK, byTenant.StatusCode);
    }

    /// <summary>No read path, event or webhook tells of a quarantined connection.</summary>
    private async Task AssertNothingShowsAsync(Guid patientId)
    {
        var record = await Tenant.GetJsonAsync($"/v1/patients/{patientId}/record");
        Assert.Equal(0, record.GetProperty("categories").GetArrayLength());
        Assert.Equal(0, record.GetProperty("sources").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, record.GetProperty("demographics").ValueKind);
        Assert.Equal(0, (await Tenant.GetJsonAsync($"/v1/patients/{patientId}/record/labs")).GetProperty("items").GetArrayLength());
        Assert.Equal(0, (await Tenant.GetJsonAsync($"/v1/patients/{patientId}/timeline")).GetProperty("items").GetArrayLength());
        Assert.Equal(0, (await Tenant.GetJsonAsync($"/v1/patients/{patientId}/changes")).GetProperty("changes").GetArrayLength());
        Assert.Equal(0, (await Tenant.GetJsonAsync($"/v1/patients/{patientId}/labs/trends?code=2345-7")).GetProperty("points").GetArrayLength());
        var everything = await Tenant.GetJsonAsync($"/fhir/r4/Patient/{patientId}/$everything");
        Assert.DoesNotContain(everything.GetProperty("entry").EnumerateArray(), e => e.GetProperty("resource").GetProperty("resourceType").GetString() != "Patient");
        Assert.Equal(0, (await Tenant.GetJsonAsync($"/fhir/r4/Observation?patient={patientId}")).GetProperty("total").GetInt32());
        foreach (var export in new[] { "export", "export?include=sources" })
        {
            var bundle = await Tenant.GetJsonAsync($"/v1/patients/{patientId}/{export}");
            var entries = bundle.TryGetProperty("entry", out var e) ? e.EnumerateArray().ToList() : [];
            Assert.DoesNotContain(entries, x => x.GetProperty("resource").GetProperty("resourceType").GetString() != "Patient");
        }

        await using var db = Database.CreateContext();
        Assert.Equal(0, await db.PatientEvents.CountAsync(e => e.PatientId == patientId, TestContext.Current.CancellationToken));
        Assert.Equal(0, await db.WebhookDeliveries.CountAsync(TestContext.Current.CancellationToken));
    }

    private async Task<(Guid PatientId, Guid ConnectionId, Uri AuthorizeUrl)> StartAsync(string externalId, string providerSlug)
    {
        var patientId = (await Tenant.PutPatientAsync(externalId)).GetProperty("id").GetGuid();
        var provider = (await Tenant.GetJsonAsync("/v1/providers?q=" + providerSlug)).GetProperty("items")[0].GetProperty("id").GetGuid();
        var response = await Tenant.PostAsJsonAsync(new Uri($"/v1/patients/{patientId}/connections", UriKind.Relative),
            new { providerId = provider, returnUrl = ConnectedPatients.ReturnUrl });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (patientId, body.GetProperty("connectionId").GetGuid(), new Uri(body.GetProperty("authorizeUrl").GetString()!));
    }

    private async Task<int> SweepAsync()
    {
        await using var scope = Api.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ConnectionConfirmationSweep>().RunAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>A webhook url for the tenant, so that any event about the connection would leave a delivery row.</summary>
    private async Task UseWebhookUrlAsync()
    {
        await using var scope = Api.Services.CreateOperatorScope();
        await scope.ServiceProvider.GetRequiredService<TenantAdministration>()
            .UpdateTenantAsync(TenantId, new TenantSettings([ConnectedPatients.ReturnUrl], null, new Uri("http://127.0.0.1:9/hooks")), CancellationToken.None);
    }

    private static Task<HttpResponseMessage> ConfirmAsync(HttpClient client, Guid connectionId, string code) =>
        client.PostAsJsonAsync(new Uri($"/v1/connections/{connectionId}/confirm", UriKind.Relative), new { resultCode = code });

    private static async Task<string?> ProblemTypeAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString();

    private static string? Query(Uri uri, string name) =>
        QueryHelpers.ParseQuery(uri.Query).TryGetValue(name, out var value) ? value.ToString() : null;
}
