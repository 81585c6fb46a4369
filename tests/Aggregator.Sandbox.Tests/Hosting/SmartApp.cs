using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Aggregator.Sandbox.Demo;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Aggregator.Sandbox.Tests.Hosting;

public enum ClientAuthentication
{
    None,
    ClientSecretBasic,
    PrivateKeyJwt,
}

/// <summary>The clients every persona registers (see src/Sandbox/README.md).</summary>
public sealed record SandboxClient(string ClientId, ClientAuthentication Authentication, string? Secret = null)
{
    public static SandboxClient Public(string persona) => new($"{persona}-public-app", ClientAuthentication.None);

    public static SandboxClient Confidential(string persona) =>
        new($"{persona}-confidential-app", ClientAuthentication.ClientSecretBasic, $"{persona}-sandbox-secret");

    public static SandboxClient Asymmetric(string persona) => new($"{persona}-jwt-app", ClientAuthentication.PrivateKeyJwt);
}

/// <summary>A SMART token endpoint answer, successful or an OAuth error.</summary>
public sealed record TokenResponse(HttpStatusCode Status, JsonObject Body)
{
    public string? AccessToken => (string?)Body["access_token"];

    public string? RefreshToken => (string?)Body["refresh_token"];

    public string? IdToken => (string?)Body["id_token"];

    public string? Scope => (string?)Body["scope"];

    public string? Patient => (string?)Body["patient"];

    public string? Error => (string?)Body["error"];
}

/// <summary>
/// A SMART app as a partner would write it, driving the sandbox over HTTP: the authorize request with PKCE S256,
/// the portal's login and consent forms (parsed and posted like a browser without JavaScript), the token,
/// refresh, revocation and introspection endpoints with the client's own authentication.
/// </summary>
public sealed class SmartApp(SandboxServer sandbox, SandboxClient client)
{
    private const string TestClientKeyId = "sandbox-test-client-1";

    public Uri RedirectUri { get; init; } = new("http://127.0.0.1:7001/v1/oauth/callback");

    /// <summary>
    /// Where the app sends the patient's browser (authorize and the portal's forms): the sandbox root unless set, e.g. to
    /// the authorization endpoint's root that discovery names when the sandbox has a separate public URL.
    /// </summary>
    public Uri? BrowserRoot { get; init; }

    private Uri Browser => BrowserRoot ?? sandbox.Root;

    /// <summary>The PKCE verifier of the last authorize request.</summary>
    public string Verifier { get; private set; } = "";

    public string State { get; private set; } = "";

    public static string Challenge(string verifier) =>
        Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    /// <summary>Sends the authorize request; the answer is the login page or an error redirect.</summary>
    /// <param name="codeChallengeMethod"><c>S256</c>, <c>plain</c>, or null to send no PKCE challenge at all.</param>
    public async Task<HttpResponseMessage> StartAsync(Uri aud, string scope, string? codeChallengeMethod = "S256", Uri? redirectUri = null,
        IReadOnlyDictionary<string, string>? extra = null)
    {
        Verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        State = Guid.NewGuid().ToString("N");
        var challenge = codeChallengeMethod == "plain" ? Verifier : Challenge(Verifier);
        var query = new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = client.ClientId,
            ["redirect_uri"] = (redirectUri ?? RedirectUri).ToString(),
            ["scope"] = scope,
            ["state"] = State,
            ["aud"] = aud.ToString(),
        };
        if (codeChallengeMethod is not null)
        {
            query["code_challenge"] = challenge;
            query["code_challenge_method"] = codeChallengeMethod;
        }

        foreach (var (name, value) in extra ?? new Dictionary<string, string>())
        {
            query[name] = value;
        }

        using var http = sandbox.CreateClient();
        return await http.GetAsync(new Uri(QueryHelpers.AddQueryString(new Uri(Browser, "oauth/authorize").ToString(), query)),
            TestContext.Current.CancellationToken);
    }

    /// <summary>
    /// The whole browser part: authorize, sign in, consent (ticking what <paramref name="keepScope"/> keeps),
    /// and returns where the portal redirects to (with <c>code</c> or <c>error</c>).
    /// </summary>
    public async Task<Uri> AuthorizeAsync(Uri aud, TestPatient patient, string scope, Func<string, bool>? keepScope = null,
        bool allow = true, Uri? redirectUri = null)
    {
        using var start = await StartAsync(aud, scope, redirectUri: redirectUri);
        if (start.StatusCode == HttpStatusCode.Found)
        {
            return start.Headers.Location!;
        }

        Assert.Equal(HttpStatusCode.OK, start.StatusCode);
        using var consentPage = await SubmitAsync(start, new Dictionary<string, string>
        {
            ["username"] = patient.Username,
            ["password"] = patient.Password,
        });
        Assert.Equal(HttpStatusCode.OK, consentPage.StatusCode);
        using var decision = await SubmitAsync(consentPage, tick: c => keepScope?.Invoke(c.Value) ?? c.Checked, button: allow ? "allow" : "deny");
        Assert.True(decision.StatusCode == HttpStatusCode.Found, await decision.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        return decision.Headers.Location!;
    }

    /// <summary>Posts the page's form as a browser would.</summary>
    public async Task<HttpResponseMessage> SubmitAsync(HttpResponseMessage page, IReadOnlyDictionary<string, string>? values = null,
        Func<HtmlForm.Checkbox, bool>? tick = null, string? button = null)
    {
        var form = HtmlForm.Parse(await page.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal("post", form.Method, ignoreCase: true);
        using var http = sandbox.CreateClient();
        return await http.PostAsync(new Uri(Browser, form.Action), form.Submit(values, tick, button), TestContext.Current.CancellationToken);
    }

    public async Task<TokenResponse> ExchangeAsync(string code, string? verifier = null, Uri? redirectUri = null) =>
        await TokenAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = (redirectUri ?? RedirectUri).ToString(),
            ["code_verifier"] = verifier ?? Verifier,
        });

    public async Task<TokenResponse> RefreshAsync(string refreshToken, string? scope = null)
    {
        var form = new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken };
        if (scope is not null)
        {
            form["scope"] = scope;
        }

        return await TokenAsync(form);
    }

    /// <summary>Authorize, sign in, consent to everything and redeem the code.</summary>
    public async Task<TokenResponse> SignInAsync(Uri aud, TestPatient patient, string scope)
    {
        var redirect = await AuthorizeAsync(aud, patient, scope);
        var code = QueryValue(redirect, "code");
        Assert.True(code is not null, $"No code in {redirect}");
        var tokens = await ExchangeAsync(code);
        Assert.True(tokens.Status == HttpStatusCode.OK, tokens.Body.ToJsonString());
        return tokens;
    }

    public async Task<HttpResponseMessage> RevokeAsync(string token, string tokenTypeHint)
    {
        using var http = sandbox.CreateClient();
        using var request = Authenticated("oauth/revoke", new Dictionary<string, string> { ["token"] = token, ["token_type_hint"] = tokenTypeHint });
        return await http.SendAsync(request, TestContext.Current.CancellationToken);
    }

    public async Task<JsonObject> IntrospectAsync(string token)
    {
        using var http = sandbox.CreateClient();
        using var request = Authenticated("oauth/introspect", new Dictionary<string, string> { ["token"] = token });
        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonNode.Parse(body)!.AsObject();
    }

    public static string? QueryValue(Uri uri, string name) =>
        QueryHelpers.ParseQuery(uri.Query).TryGetValue(name, out var value) ? value.ToString() : null;

    /// <summary>
    /// A private_key_jwt client assertion as SMART asks for it (RFC 7523, <c>typ: JWT</c>, <c>aud</c> = token
    /// endpoint), signed with the committed test key or the given one.
    /// </summary>
    public static string ClientAssertion(string clientId, Uri tokenEndpoint, RSA? key = null)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = clientId,
            Audience = tokenEndpoint.ToString(),
            Claims = new Dictionary<string, object> { ["sub"] = clientId, ["jti"] = Guid.NewGuid().ToString("N") },
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddMinutes(4),
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(key ?? TestKey.Value) { KeyId = TestClientKeyId }, SecurityAlgorithms.RsaSha384)
            {
                CryptoProviderFactory = new CryptoProviderFactory { CacheSignatureProviders = false },
            },
        });
    }

    private static readonly Lazy<RSA> TestKey = new(() =>
    {
        var rsa = RSA.Create();
        rsa.ImportFromPem(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Authorization", "Clients", "test-client-private-key.pem")));
        return rsa;
    });

    private async Task<TokenResponse> TokenAsync(Dictionary<string, string> form)
    {
        using var http = sandbox.CreateClient();
        using var request = Authenticated("oauth/token", form);
        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>(TestContext.Current.CancellationToken);
        return new TokenResponse(response.StatusCode, body!);
    }

    private HttpRequestMessage Authenticated(string path, Dictionary<string, string> form)
    {
        var endpoint = new Uri(sandbox.Root, path);
        var request = new HttpRequestMessage(HttpMethod.Post, endpoint);
        switch (client.Authentication)
        {
            case ClientAuthentication.None:
                form["client_id"] = client.ClientId;
                break;
            case ClientAuthentication.ClientSecretBasic:
                var credentials = $"{Uri.EscapeDataString(client.ClientId)}:{Uri.EscapeDataString(client.Secret!)}";
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
                break;
            case ClientAuthentication.PrivateKeyJwt:
                form["client_id"] = client.ClientId;
                form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
                form["client_assertion"] = ClientAssertion(client.ClientId, new Uri(sandbox.Root, "oauth/token"));
                break;
        }

        request.Content = new FormUrlEncodedContent(form);
        return request;
    }
}
