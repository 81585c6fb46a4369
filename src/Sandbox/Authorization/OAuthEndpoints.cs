using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aggregator.Sandbox.FhirData;
using Aggregator.Sandbox.Personas;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Aggregator.Sandbox.Authorization;

/// <summary>
/// The parts of the authorization server OpenIddict leaves to the host: the patient portal (login and consent),
/// the SMART checks of an authorize request (<c>aud</c>, persona of the client) and the claims of issued tokens.
/// OpenIddict has already validated client, redirect URI, response type and PKCE when these handlers run.
/// </summary>
public static class OAuthEndpoints
{
    public const string PatientClaim = "patient";
    public const string FhirUserClaim = "fhirUser";
    public const string PersonaProperty = "persona";

    public static IEndpointRouteBuilder MapOAuthEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/oauth").WithTags("OAuth").DisableAntiforgery();
        group.MapMethods("/authorize", [HttpMethods.Get, HttpMethods.Post], Authorize);
        group.MapPost("/login", Login);
        group.MapPost("/token", Token);
        return app;
    }

    /// <summary>
    /// GET shows the login page; the consent form posts back here with a login ticket, and then the patient's
    /// choice ends the request: a code for the ticked scopes, or <c>access_denied</c>.
    /// </summary>
    public static async Task<Results<PortalPage, ForbidHttpResult, SignInHttpResult, JsonHttpResult<OAuthError>>> Authorize(
        HttpContext context, PersonaCatalog personas, FhirStore store, PortalTickets tickets,
        IOpenIddictApplicationManager applications, SandboxUrls urls, CancellationToken cancellationToken)
    {
        // Errors OpenIddict cannot send back to the client (unknown client, unregistered redirect URI).
        if (context.GetOpenIddictServerResponse() is { Error: { Length: > 0 } error })
        {
            return TypedResults.Json(new OAuthError(error, context.GetOpenIddictServerResponse()!.ErrorDescription),
                statusCode: StatusCodes.Status400BadRequest);
        }

        var request = context.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenIddict authorization request is missing.");
        if (request.CodeChallengeMethod != CodeChallengeMethods.Sha256 || string.IsNullOrEmpty(request.CodeChallenge))
        {
            return Reject(Errors.InvalidRequest, "PKCE is required, with code_challenge_method S256.");
        }

        var checkedRequest = await CheckSmartRequestAsync(request, context.Request, personas, applications, cancellationToken);
        if (checkedRequest.Error is { } refusal)
        {
            return refusal;
        }

        var (fhirBase, appName) = (checkedRequest.FhirBase, checkedRequest.AppName);
        var portal = fhirBase.Persona.Options.DisplayName;
        var binding = PortalTickets.Binding(name => (string?)request[name]);
        var parameters = AuthorizeParameters(request);
        var loginAction = $"{context.Request.PathBase}/oauth/login";
        if ((string?)request["login_ticket"] is not { } ticketText)
        {
            if (request.HasPromptValue(PromptValues.None))
            {
                return Reject(Errors.LoginRequired, "The patient must sign in.");
            }

            return PortalPages.Login(portal, appName, loginAction, tickets.ProtectRequest(parameters), error: null, userName: null);
        }

        var ticket = tickets.ReadLogin(ticketText, binding);
        var account = ticket is null ? null : store.Find(fhirBase)?.Accounts.FirstOrDefault(a => a.PatientId == ticket.PatientId);
        if (ticket is null || account is null || ticket.Persona != fhirBase.Persona.Name || ticket.Version != fhirBase.Version.DisplayName())
        {
            return PortalPages.Login(portal, appName, loginAction, tickets.ProtectRequest(parameters),
                "Your sign-in has expired. Please sign in again.", userName: null);
        }

        if ((string?)request["decision"] != "allow")
        {
            return Reject(Errors.AccessDenied, "The patient did not allow access.");
        }

        var ticked = context.Request.HasFormContentType
            ? (await context.Request.ReadFormAsync(cancellationToken))["granted_scope"].OfType<string>().ToHashSet(StringComparer.Ordinal)
            : [];
        var granted = request.GetScopes().Where(s => ticked.Contains(s) && SmartScopes.IsGrantable(s)).ToList();
        var identity = CreateIdentity(fhirBase, urls.ServerRoot(context.Request), account, granted);
        return TypedResults.SignIn(new ClaimsPrincipal(identity), properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>Checks the portal credentials; shows the login page again or the consent page.</summary>
    public static async Task<PortalPage> Login(HttpContext context, PersonaCatalog personas, FhirStore store,
        PortalTickets tickets, IOpenIddictApplicationManager applications, CancellationToken cancellationToken)
    {
        var form = await context.Request.ReadFormAsync(cancellationToken);
        var parameters = tickets.UnprotectRequest(form["request"]);
        var aud = parameters?.FirstOrDefault(p => p.Key == "aud").Value;
        if (parameters is null || aud is null || !personas.TryFindBase(aud, context.Request, out var fhirBase))
        {
            return PortalPages.Problem("Sign-in expired", "This sign-in page is no longer valid. Go back to the app and start again.",
                StatusCodes.Status400BadRequest);
        }

        var clientId = parameters.FirstOrDefault(p => p.Key == "client_id").Value;
        var appName = await AppNameAsync(applications, clientId, cancellationToken);
        var portal = fhirBase.Persona.Options.DisplayName;
        var userName = form["username"].ToString();
        var account = store.Find(fhirBase)?.FindAccount(userName);
        if (account is null || !PasswordMatches(account.Password, form["password"].ToString()))
        {
            return PortalPages.Login(portal, appName, $"{context.Request.PathBase}{context.Request.Path}", form["request"].ToString(),
                "The user ID or password is not correct.", userName);
        }

        var binding = PortalTickets.Binding(name => parameters.FirstOrDefault(p => p.Key == name).Value);
        var ticket = tickets.IssueLogin(fhirBase.Persona.Name, fhirBase.Version.DisplayName(), account.PatientId, binding);
        var requested = (parameters.FirstOrDefault(p => p.Key == "scope").Value ?? "")
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return PortalPages.Consent(portal, appName, account.Name, $"{context.Request.PathBase}/oauth/authorize", parameters, ticket, requested);
    }

    /// <summary>
    /// Code and refresh grants: OpenIddict has validated the code or refresh token (PKCE, redirect, rotation,
    /// reuse); the response adds the SMART <c>patient</c> and the granted <c>scope</c>.
    /// </summary>
    public static async Task<Results<SignInHttpResult, ForbidHttpResult>> Token(HttpContext context, FhirStore store,
        PersonaCatalog personas, CancellationToken cancellationToken)
    {
        var request = context.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenIddict token request is missing.");
        if (!request.IsAuthorizationCodeGrantType() && !request.IsRefreshTokenGrantType())
        {
            return Reject(Errors.UnsupportedGrantType, "Only authorization_code and refresh_token grants are supported.");
        }

        var result = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        if (result.Principal is not { } principal || principal.GetClaim(PatientClaim) is not { } patientId)
        {
            return Reject(Errors.InvalidGrant, "The grant is no longer valid.");
        }

        var fhirBase = principal.GetResources().Select(r => personas.TryFindBase(r, context.Request, out var b) ? b : (FhirBase?)null)
            .FirstOrDefault(b => b is not null);
        if (fhirBase is null || store.Find(fhirBase.Value)?.Find("Patient", patientId) is null)
        {
            return Reject(Errors.InvalidGrant, "The patient of this grant is no longer known.");
        }

        var identity = new ClaimsIdentity(principal.Claims, TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        if (request.IsRefreshTokenGrantType() && !string.IsNullOrEmpty(request.Scope))
        {
            identity.SetScopes(request.GetScopes().Intersect(principal.GetScopes(), StringComparer.Ordinal));
        }

        identity.SetDestinations(ClaimDestinations);
        var properties = new AuthenticationProperties(
            new Dictionary<string, string?>(),
            new Dictionary<string, object?>
            {
                [PatientClaim] = patientId,
                [Parameters.Scope] = string.Join(' ', identity.GetScopes()),
            });
        return TypedResults.SignIn(new ClaimsPrincipal(identity), properties, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private static async Task<CheckedRequest> CheckSmartRequestAsync(OpenIddictRequest request, HttpRequest httpRequest,
        PersonaCatalog personas, IOpenIddictApplicationManager applications, CancellationToken cancellationToken)
    {
        if ((string?)request["aud"] is not { Length: > 0 } aud || !personas.TryFindBase(aud, httpRequest, out var fhirBase))
        {
            return new CheckedRequest(Reject(Errors.InvalidRequest, "The aud parameter must be the FHIR base URL of a server hosted here."));
        }

        var application = await applications.FindByClientIdAsync(request.ClientId!, cancellationToken);
        var properties = application is null
            ? []
            : await applications.GetPropertiesAsync(application, cancellationToken);
        if (!properties.TryGetValue(PersonaProperty, out var persona) || persona.ValueKind != JsonValueKind.String
            || persona.GetString() != fhirBase.Persona.Name)
        {
            return new CheckedRequest(Reject(Errors.InvalidRequest, $"The client is not registered at the server named by aud ({fhirBase.Persona.Name})."));
        }

        var appName = await applications.GetDisplayNameAsync(application!, cancellationToken) ?? request.ClientId!;
        return new CheckedRequest(null) { FhirBase = fhirBase, AppName = appName };
    }

    /// <param name="serverRoot">The root servers call (the token's resource and <c>fhirUser</c> name the base there).</param>
    private static ClaimsIdentity CreateIdentity(FhirBase fhirBase, string serverRoot, PatientAccount account, IReadOnlyList<string> scopes)
    {
        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        var baseUrl = fhirBase.Url(serverRoot);
        identity.SetClaim(Claims.Subject, account.PatientId)
            .SetClaim(Claims.Name, account.Name)
            .SetClaim(PatientClaim, account.PatientId)
            .SetClaim(FhirUserClaim, $"{baseUrl}/Patient/{account.PatientId}");
        identity.SetScopes(scopes);
        identity.SetResources(baseUrl);
        identity.SetDestinations(ClaimDestinations);
        return identity;
    }

    /// <summary>Which token each claim goes into: identity claims only when the matching scope was granted.</summary>
    private static IEnumerable<string> ClaimDestinations(Claim claim)
    {
        var identity = claim.Subject;
        switch (claim.Type)
        {
            case Claims.Subject:
                yield return Destinations.AccessToken;
                yield return Destinations.IdentityToken;
                break;
            case Claims.Name when identity is not null && identity.HasScope(Scopes.Profile):
                yield return Destinations.IdentityToken;
                break;
            case Claims.Name:
                break;
            case FhirUserClaim:
                yield return Destinations.AccessToken;
                if (identity is not null && identity.HasScope(SmartScopes.FhirUser))
                {
                    yield return Destinations.IdentityToken;
                }

                break;
            default:
                yield return Destinations.AccessToken;
                break;
        }
    }

    /// <summary>The parameters of the authorize request itself, without the portal's own fields.</summary>
    private static List<KeyValuePair<string, string>> AuthorizeParameters(OpenIddictRequest request) =>
        request.GetParameters()
            .Where(p => p.Key is not ("login_ticket" or "decision" or "granted_scope"))
            .Select(p => new KeyValuePair<string, string>(p.Key, (string?)p.Value ?? ""))
            .ToList();

    private static async Task<string> AppNameAsync(IOpenIddictApplicationManager applications, string? clientId, CancellationToken cancellationToken)
    {
        var application = string.IsNullOrEmpty(clientId) ? null : await applications.FindByClientIdAsync(clientId, cancellationToken);
        return application is null ? clientId ?? "The app" : await applications.GetDisplayNameAsync(application, cancellationToken) ?? clientId!;
    }

    private static bool PasswordMatches(string expected, string given) =>
        CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(expected)),
            SHA256.HashData(Encoding.UTF8.GetBytes(given)));

    private static ForbidHttpResult Reject(string error, string description) =>
        TypedResults.Forbid(
            new AuthenticationProperties(new Dictionary<string, string?>
            {
                [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
                [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
            }),
            [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);

    /// <summary>An OAuth error response body (RFC 6749 §5.2).</summary>
    public sealed record OAuthError(
        [property: JsonPropertyName("error")] string Error,
        [property: JsonPropertyName("error_description")] string? ErrorDescription);

    private sealed record CheckedRequest(ForbidHttpResult? Error)
    {
        public FhirBase FhirBase { get; init; }

        public string AppName { get; init; } = "";
    }
}
