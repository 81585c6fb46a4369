using System.Net;
using System.Text.Json.Nodes;
using Aggregator.Sandbox.Tests.Hosting;

namespace Aggregator.Sandbox.Tests.OAuth;

/// <summary>What a real SMART server refuses, and how: an OAuth error redirect or OAuth error JSON, never a 500.</summary>
public sealed class AuthorizationRefusalTests(SamplesSandbox sandbox)
{
    private const string Scopes = "launch/patient openid offline_access patient/*.read";

    private SandboxServer Server => sandbox.Server;

    private Uri NextgenR4 => Server.FhirBase("nextgen", "r4");

    [Fact]
    public async Task A_wrong_code_verifier_is_refused_with_invalid_grant()
    {
        var app = new SmartApp(Server, SandboxClient.Public("nextgen"));
        var redirect = await app.AuthorizeAsync(NextgenR4, await Patient(), Scopes);

        var tokens = await app.ExchangeAsync(SmartApp.QueryValue(redirect, "code")!, verifier: new string('x', 43));

        Assert.Equal(HttpStatusCode.BadRequest, tokens.Status);
        Assert.Equal("invalid_grant", tokens.Error);
    }

    [Fact]
    public async Task An_aud_that_is_not_a_FHIR_base_here_or_belongs_to_another_persona_is_refused_before_login()
    {
        var app = new SmartApp(Server, SandboxClient.Public("nextgen"));

        foreach (var aud in new[] { new Uri("https://fhir.example.org/r4"), Server.FhirBase("epic", "r4"), new Uri(Server.Root, "nextgen/fhir/r5") })
        {
            using var response = await app.StartAsync(aud, Scopes);

            Assert.Equal(HttpStatusCode.Found, response.StatusCode);
            var location = response.Headers.Location!;
            Assert.StartsWith(app.RedirectUri.GetLeftPart(UriPartial.Path), location.ToString(), StringComparison.Ordinal);
            Assert.Equal("invalid_request", SmartApp.QueryValue(location, "error"));
            Assert.Equal(app.State, SmartApp.QueryValue(location, "state"));
        }
    }

    [Fact]
    public async Task The_aud_matches_with_or_without_a_trailing_slash()
    {
        var app = new SmartApp(Server, SandboxClient.Public("nextgen"));
        var withoutSlash = new Uri(NextgenR4.ToString().TrimEnd('/'));

        var tokens = await app.SignInAsync(withoutSlash, await Patient(), Scopes);

        Assert.Equal(HttpStatusCode.OK, tokens.Status);
    }

    [Fact]
    public async Task The_sign_in_and_consent_pages_may_not_be_framed()
    {
        var app = new SmartApp(Server, SandboxClient.Public("nextgen"));
        var patient = await Patient();

        using var login = await app.StartAsync(NextgenR4, Scopes);
        using var consent = await app.SubmitAsync(login, new Dictionary<string, string> { ["username"] = patient.Username, ["password"] = patient.Password });

        foreach (var page in new[] { login, consent })
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            Assert.Equal("DENY", page.Headers.GetValues("X-Frame-Options").Single());
            Assert.Contains("frame-ancestors 'none'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_unregistered_redirect_uri_gets_an_error_page_and_no_redirect()
    {
        var app = new SmartApp(Server, SandboxClient.Public("nextgen"));

        foreach (var redirect in new[] { "https://attacker.example.com/v1/oauth/callback", "http://127.0.0.1:7001/v1/oauth/other", "http://localhost:7001/v1/oauth/callback" })
        {
            using var response = await app.StartAsync(NextgenR4, Scopes, redirectUri: new Uri(redirect));

            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Null(response.Headers.Location);
            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!;
            Assert.Equal("invalid_request", (string?)body["error"]);
        }
    }

    [Fact]
    public async Task A_registered_loopback_redirect_is_accepted_on_any_port()
    {
        var app = new SmartApp(Server, SandboxClient.Public("nextgen")) { RedirectUri = new Uri("http://127.0.0.1:54321/v1/oauth/callback") };

        var redirect = await app.AuthorizeAsync(NextgenR4, await Patient(), Scopes);
        var tokens = await app.ExchangeAsync(SmartApp.QueryValue(redirect, "code")!);

        Assert.Equal("127.0.0.1", redirect.Host);
        Assert.Equal(54321, redirect.Port);
        Assert.Equal("/v1/oauth/callback", redirect.AbsolutePath);
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
    }

    [Fact]
    public async Task Plain_PKCE_and_a_missing_code_challenge_are_refused()
    {
        var app = new SmartApp(Server, SandboxClient.Public("nextgen"));

        foreach (var method in new[] { "plain", null })
        {
            using var response = await app.StartAsync(NextgenR4, Scopes, codeChallengeMethod: method);

            Assert.Equal(HttpStatusCode.Found, response.StatusCode);
            Assert.Equal("invalid_request", SmartApp.QueryValue(response.Headers.Location!, "error"));
        }
    }

    [Fact]
    public async Task Unticked_scopes_are_not_granted_and_their_types_answer_403()
    {
        var patient = await Patient();
        var app = new SmartApp(Server, SandboxClient.Public("nextgen"));
        const string asked = "launch/patient patient/Patient.rs patient/Observation.rs patient/Condition.rs";

        var redirect = await app.AuthorizeAsync(NextgenR4, patient, asked, keepScope: s => s != "patient/Observation.rs");
        var tokens = await app.ExchangeAsync(SmartApp.QueryValue(redirect, "code")!);

        Assert.Equal(new[] { "launch/patient", "patient/Condition.rs", "patient/Patient.rs" }, tokens.Scope!.Split(' ').Order());
        using var fhir = Server.CreateClient();
        fhir.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", tokens.AccessToken);
        using var observations = await fhir.GetAsync(new Uri(NextgenR4, $"Observation?patient={patient.PatientId}"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Forbidden, observations.StatusCode);
        Assert.Contains("insufficient_scope", observations.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        var outcome = JsonNode.Parse(await observations.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!.AsObject();
        Assert.Equal("forbidden", outcome.IssueCode());
        await fhir.GetJsonAsync(new Uri(NextgenR4, $"Condition?patient={patient.PatientId}"));
        await fhir.GetJsonAsync(new Uri(NextgenR4, $"Patient/{patient.PatientId}"));
    }

    [Fact]
    public async Task A_patient_who_denies_access_sends_the_app_access_denied()
    {
        var app = new SmartApp(Server, SandboxClient.Public("nextgen"));

        var redirect = await app.AuthorizeAsync(NextgenR4, await Patient(), Scopes, allow: false);

        Assert.Equal("access_denied", SmartApp.QueryValue(redirect, "error"));
        Assert.Equal(app.State, SmartApp.QueryValue(redirect, "state"));
        Assert.Null(SmartApp.QueryValue(redirect, "code"));
    }

    [Fact]
    public async Task A_wrong_password_shows_the_login_page_again_and_issues_nothing()
    {
        var patient = await Patient();
        var app = new SmartApp(Server, SandboxClient.Public("nextgen"));
        using var login = await app.StartAsync(NextgenR4, Scopes);

        using var retry = await app.SubmitAsync(login, new Dictionary<string, string> { ["username"] = patient.Username, ["password"] = "wrong" });
        var page = await retry.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Contains("not correct", page, StringComparison.Ordinal);
        Assert.DoesNotContain("login_ticket", page, StringComparison.Ordinal);
        using var consent = await app.SubmitAsync(retry, new Dictionary<string, string> { ["username"] = patient.Username, ["password"] = patient.Password });
        Assert.Contains("login_ticket", await consent.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_patient_of_another_persona_cannot_sign_in_here()
    {
        var epicPatient = (await Server.TestPatientsAsync()).First(p => p.Persona == "epic");
        var app = new SmartApp(Server, SandboxClient.Public("nextgen"));
        using var login = await app.StartAsync(NextgenR4, Scopes);

        using var retry = await app.SubmitAsync(login, new Dictionary<string, string>
        {
            ["username"] = epicPatient.Username + "-elsewhere",
            ["password"] = epicPatient.Password,
        });

        Assert.Contains("not correct", await retry.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prompt_none_without_a_session_answers_login_required()
    {
        var app = new SmartApp(Server, SandboxClient.Public("nextgen"));

        using var response = await app.StartAsync(NextgenR4, Scopes, extra: new Dictionary<string, string> { ["prompt"] = "none" });

        Assert.Equal("login_required", SmartApp.QueryValue(response.Headers.Location!, "error"));
    }

    [Fact]
    public async Task Malformed_token_requests_get_OAuth_error_json_not_a_server_error()
    {
        using var http = Server.CreateClient();
        var requests = new[]
        {
            new Dictionary<string, string> { ["grant_type"] = "authorization_code", ["client_id"] = "nextgen-public-app" },
            new Dictionary<string, string> { ["grant_type"] = "password", ["client_id"] = "nextgen-public-app", ["username"] = "a", ["password"] = "b" },
            new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["client_id"] = "nextgen-public-app", ["refresh_token"] = "garbage" },
            new Dictionary<string, string> { ["grant_type"] = "authorization_code", ["client_id"] = "no-such-client", ["code"] = "x", ["code_verifier"] = "y" },
        };

        foreach (var form in requests)
        {
            using var response = await http.PostAsync(new Uri(Server.Root, "oauth/token"), new FormUrlEncodedContent(form), TestContext.Current.CancellationToken);
            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!;

            Assert.InRange((int)response.StatusCode, 400, 401);
            Assert.False(string.IsNullOrEmpty((string?)body["error"]));
        }
    }

    private async Task<TestPatient> Patient() =>
        (await Server.TestPatientsAsync()).First(p => p.Persona == "nextgen" && p.FhirVersion == "R4");
}
