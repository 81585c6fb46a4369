using System.Net;
using System.Text.Json.Nodes;
using Aggregator.Sandbox.Tests.Hosting;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Aggregator.Sandbox.Tests.OAuth;

/// <summary>
/// The SMART standalone launch a partner's backend performs, end to end over HTTP: authorize with PKCE, the
/// portal's login and consent forms, code exchange, FHIR calls, refresh with rotation, reuse detection,
/// revocation and introspection.
/// </summary>
public sealed class AuthorizationCodeFlowTests(SamplesSandbox sandbox)
{
    private const string Scopes = "launch/patient openid fhirUser offline_access patient/*.read";

    private SandboxServer Server => sandbox.Server;

    [Fact]
    public async Task Code_exchange_gives_tokens_with_the_patient_scopes_and_lifetimes_configured()
    {
        var patient = await Patient("nextgen", "r4");
        var app = new SmartApp(Server, SandboxClient.Confidential("nextgen"));

        var redirect = await app.AuthorizeAsync(Server.FhirBase("nextgen", "r4"), patient, Scopes);
        Assert.Equal(app.RedirectUri.GetLeftPart(UriPartial.Path), redirect.GetLeftPart(UriPartial.Path));
        Assert.Equal(app.State, SmartApp.QueryValue(redirect, "state"));
        var tokens = await app.ExchangeAsync(SmartApp.QueryValue(redirect, "code")!);

        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        Assert.Equal("Bearer", (string?)tokens.Body["token_type"], ignoreCase: true);
        Assert.InRange((int)tokens.Body["expires_in"]!, (int)SamplesSandbox.AccessTokenLifetime.TotalSeconds - 5, (int)SamplesSandbox.AccessTokenLifetime.TotalSeconds);
        Assert.Equal(Scopes.Split(' ').Order(), tokens.Scope!.Split(' ').Order());
        Assert.Equal(patient.PatientId, tokens.Patient);
        Assert.NotNull(tokens.RefreshToken);
        var idToken = new JsonWebToken(tokens.IdToken);
        Assert.Equal($"{Server.FhirBase("nextgen", "r4")}Patient/{patient.PatientId}", idToken.GetClaim("fhirUser").Value);
        Assert.Equal("nextgen-confidential-app", idToken.Audiences.Single());
        var accessToken = new JsonWebToken(tokens.AccessToken);
        Assert.Equal(Server.FhirBase("nextgen", "r4").ToString().TrimEnd('/'), accessToken.Audiences.Single());

        using var fhir = Bearer(tokens.AccessToken!);
        var read = await fhir.GetJsonAsync(new Uri(Server.FhirBase("nextgen", "r4"), $"Patient/{patient.PatientId}"));
        Assert.Equal(patient.PatientId, (string?)read["id"]);
    }

    [Fact]
    public async Task Without_openid_or_offline_access_there_is_no_id_token_or_refresh_token()
    {
        var patient = await Patient("nextgen", "r4");
        var app = new SmartApp(Server, SandboxClient.Public("nextgen"));

        var tokens = await app.SignInAsync(Server.FhirBase("nextgen", "r4"), patient, "launch/patient patient/Observation.rs");

        Assert.Null(tokens.IdToken);
        Assert.Null(tokens.RefreshToken);
        Assert.Equal("launch/patient patient/Observation.rs", tokens.Scope);
        Assert.Equal(patient.PatientId, tokens.Patient);
    }

    [Fact]
    public async Task Refresh_rotates_the_refresh_token_and_reusing_an_old_one_revokes_the_whole_grant()
    {
        var patient = await Patient("nextgen", "r4");
        var app = new SmartApp(Server, SandboxClient.Confidential("nextgen"));
        var first = await app.SignInAsync(Server.FhirBase("nextgen", "r4"), patient, Scopes);

        var second = await app.RefreshAsync(first.RefreshToken!);
        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.NotEqual(first.RefreshToken, second.RefreshToken);
        Assert.NotEqual(first.AccessToken, second.AccessToken);
        Assert.Equal(patient.PatientId, second.Patient);
        Assert.Equal(first.Scope, second.Scope);
        using (var fhir = Bearer(second.AccessToken!))
        {
            await fhir.GetJsonAsync(new Uri(Server.FhirBase("nextgen", "r4"), $"Condition?patient={patient.PatientId}"));
        }

        // The used refresh token died at once; presenting it again is treated as theft.
        var reused = await app.RefreshAsync(first.RefreshToken!);
        Assert.Equal(HttpStatusCode.BadRequest, reused.Status);
        Assert.Equal("invalid_grant", reused.Error);

        var rotated = await app.RefreshAsync(second.RefreshToken!);
        Assert.Equal("invalid_grant", rotated.Error);
        using var revoked = Bearer(second.AccessToken!);
        using var response = await revoked.GetAsync(new Uri(Server.FhirBase("nextgen", "r4"), $"Condition?patient={patient.PatientId}"),
            TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("invalid_token", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Revoking_the_refresh_token_ends_the_grant_and_introspection_reports_it_inactive()
    {
        var patient = await Patient("nextgen", "r4");
        var app = new SmartApp(Server, SandboxClient.Confidential("nextgen"));
        var tokens = await app.SignInAsync(Server.FhirBase("nextgen", "r4"), patient, Scopes);

        using var revocation = await app.RevokeAsync(tokens.RefreshToken!, "refresh_token");

        Assert.Equal(HttpStatusCode.OK, revocation.StatusCode);
        Assert.Equal("invalid_grant", (await app.RefreshAsync(tokens.RefreshToken!)).Error);
        Assert.False((bool)(await app.IntrospectAsync(tokens.RefreshToken!))["active"]!);
        Assert.False((bool)(await app.IntrospectAsync(tokens.AccessToken!))["active"]!);
        using var fhir = Bearer(tokens.AccessToken!);
        using var response = await fhir.GetAsync(new Uri(Server.FhirBase("nextgen", "r4"), $"Patient/{patient.PatientId}"),
            TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_refresh_may_narrow_the_scope_and_revoking_an_unknown_token_still_answers_200()
    {
        var patient = await Patient("nextgen", "r4");
        var app = new SmartApp(Server, SandboxClient.Confidential("nextgen"));
        var tokens = await app.SignInAsync(Server.FhirBase("nextgen", "r4"), patient, "launch/patient offline_access patient/Condition.rs patient/Observation.rs");

        var narrowed = await app.RefreshAsync(tokens.RefreshToken!, "offline_access patient/Condition.rs");
        using var unknown = await app.RevokeAsync("not-a-token-this-server-issued", "refresh_token");

        Assert.Equal(HttpStatusCode.OK, narrowed.Status);
        Assert.Equal(new[] { "offline_access", "patient/Condition.rs" }, narrowed.Scope!.Split(' ').Order());
        Assert.Equal(HttpStatusCode.OK, unknown.StatusCode);
    }

    [Fact]
    public async Task Introspection_describes_active_tokens_including_the_refresh_tokens_expiry()
    {
        var patient = await Patient("nextgen", "r4");
        var app = new SmartApp(Server, SandboxClient.Confidential("nextgen"));
        var tokens = await app.SignInAsync(Server.FhirBase("nextgen", "r4"), patient, Scopes);
        var now = DateTimeOffset.UtcNow;

        var refresh = await app.IntrospectAsync(tokens.RefreshToken!);
        var access = await app.IntrospectAsync(tokens.AccessToken!);

        Assert.True((bool)refresh["active"]!);
        Assert.Equal("nextgen-confidential-app", (string?)refresh["client_id"]);
        var refreshExpiry = DateTimeOffset.FromUnixTimeSeconds((long)refresh["exp"]!);
        Assert.InRange(refreshExpiry, now + SamplesSandbox.RefreshTokenLifetime - TimeSpan.FromMinutes(1), now + SamplesSandbox.RefreshTokenLifetime + TimeSpan.FromMinutes(1));
        Assert.True((bool)access["active"]!);
        Assert.Equal(patient.PatientId, (string?)access["patient"]);
        Assert.Equal("nextgen-confidential-app", (string?)access["client_id"]);
        Assert.Equal(tokens.Scope!.Split(' ').Order(), ((string)access["scope"]!).Split(' ').Order());
        var accessExpiry = DateTimeOffset.FromUnixTimeSeconds((long)access["exp"]!);
        Assert.InRange(accessExpiry, now + SamplesSandbox.AccessTokenLifetime - TimeSpan.FromMinutes(1), now + SamplesSandbox.AccessTokenLifetime + TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task A_client_authenticated_with_private_key_jwt_gets_and_refreshes_tokens()
    {
        var patient = await Patient("epic", "r4");
        var app = new SmartApp(Server, SandboxClient.Asymmetric("epic"));

        var tokens = await app.SignInAsync(Server.FhirBase("epic", "r4"), patient, Scopes);
        var refreshed = await app.RefreshAsync(tokens.RefreshToken!);

        Assert.Equal(patient.PatientId, tokens.Patient);
        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
        Assert.True((bool)(await app.IntrospectAsync(refreshed.AccessToken!))["active"]!);
    }

    [Fact]
    public async Task Confidential_clients_with_a_wrong_secret_or_a_foreign_key_are_refused()
    {
        var patient = await Patient("cerner", "r4");
        var aud = Server.FhirBase("cerner", "r4");
        var wrongSecret = new SmartApp(Server, SandboxClient.Confidential("cerner") with { Secret = "not-the-secret" });
        var redirect = await wrongSecret.AuthorizeAsync(aud, patient, Scopes);

        var refused = await wrongSecret.ExchangeAsync(SmartApp.QueryValue(redirect, "code")!);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
        Assert.Equal("invalid_client", refused.Error);

        using var foreignKey = System.Security.Cryptography.RSA.Create(2048);
        var assertion = SmartApp.ClientAssertion("cerner-jwt-app", new Uri(Server.Root, "oauth/token"), foreignKey);
        using var http = Server.CreateClient();
        using var response = await http.PostAsync(new Uri(Server.Root, "oauth/token"), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = "anything",
            ["client_id"] = "cerner-jwt-app",
            ["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ["client_assertion"] = assertion,
        }), TestContext.Current.CancellationToken);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!;
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid_client", (string?)body["error"]);
    }

    [Fact]
    public async Task The_DSTU2_base_issues_tokens_for_its_own_patients()
    {
        var patient = await Patient("nextgen", "dstu2");
        var app = new SmartApp(Server, SandboxClient.Public("nextgen"));
        var aud = Server.FhirBase("nextgen", "dstu2");

        var tokens = await app.SignInAsync(aud, patient, "launch/patient patient/*.read");

        using var fhir = Bearer(tokens.AccessToken!);
        var bundle = await fhir.GetJsonAsync(new Uri(aud, $"Condition?patient={patient.PatientId}"));
        Assert.Equal("searchset", (string?)bundle["type"]);
        using var atR4 = await fhir.GetAsync(new Uri(Server.FhirBase("nextgen", "r4"), $"Patient/{patient.PatientId}"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, atR4.StatusCode);
    }

    private async Task<TestPatient> Patient(string persona, string version) =>
        (await Server.TestPatientsAsync()).First(p => p.Persona == persona && string.Equals(p.FhirVersion, version, StringComparison.OrdinalIgnoreCase));

    private HttpClient Bearer(string accessToken)
    {
        var client = Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", accessToken);
        return client;
    }
}
