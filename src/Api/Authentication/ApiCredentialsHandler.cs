using System.Security.Claims;
using System.Text.Encodings.Web;
using Aggregator.Infrastructure.Hosting;
using Aggregator.Infrastructure.Tenants;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Aggregator.Api.Authentication;

/// <summary>
/// <c>Authorization: Bearer {credential}</c>: a tenant's API key (<c>agg_test_…</c>/<c>agg_live_…</c>), a
/// patient session token (<c>aggs_…</c>) or a hosted Connect page's link-session credential (<c>aggls_…</c>).
/// A recognised credential sets the scope's tenant, which every query is then filtered by.
/// </summary>
public sealed class ApiCredentialsHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyAuthenticator apiKeys,
    PatientSessionTokens sessions,
    LinkSessionCredentials links,
    CredentialRevocations revocations) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiCredentials";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        var credential = header["Bearer ".Length..].Trim();
        if (credential.StartsWith(PatientSessionTokens.Prefix, StringComparison.Ordinal))
        {
            return await AuthenticateSessionAsync(credential);
        }

        if (credential.StartsWith(LinkSessionCredentials.Prefix, StringComparison.Ordinal))
        {
            return await AuthenticateLinkSessionAsync(credential);
        }

        var key = await apiKeys.AuthenticateAsync(credential, Context.RequestAborted);
        if (key is null)
        {
            return AuthenticateResult.Fail("The credential is not a valid API key.");
        }

        Context.RequestServices.GetRequiredService<CurrentTenant>().Set(key.TenantId);
        var identity = new ClaimsIdentity(
            [
                new Claim(ApiClaims.TenantId, key.TenantId.ToString()),
                new Claim(ApiClaims.ActorType, ApiClaims.ActorApiKey),
                new Claim(ApiClaims.ActorId, key.KeyId.ToString()),
            ],
            SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    private async Task<AuthenticateResult> AuthenticateSessionAsync(string credential)
    {
        // Signed and unexpired is not enough: the patient may have revoked it, or its tenant been suspended.
        if (sessions.Validate(credential) is not { } session || !await revocations.SessionAllowedAsync(session, Context.RequestAborted))
        {
            return AuthenticateResult.Fail("The session token is not valid or has expired.");
        }

        Context.RequestServices.GetRequiredService<CurrentTenant>().Set(session.TenantId);
        var identity = new ClaimsIdentity(
            [
                new Claim(ApiClaims.TenantId, session.TenantId.ToString()),
                new Claim(ApiClaims.ActorType, ApiClaims.ActorSession),
                new Claim(ApiClaims.ActorId, "session:" + session.PatientId),
                new Claim(ApiClaims.PatientId, session.PatientId.ToString()),
                new Claim(ApiClaims.ExpiresAt, session.ExpiresAt.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new Claim(ApiClaims.IssuedAt, session.IssuedAt.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ],
            SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    private async Task<AuthenticateResult> AuthenticateLinkSessionAsync(string credential)
    {
        if (links.Validate(credential) is not { } link || !await revocations.TenantActiveAsync(link.TenantId, Context.RequestAborted))
        {
            return AuthenticateResult.Fail("The link-session credential is not valid or has expired.");
        }

        Context.RequestServices.GetRequiredService<CurrentTenant>().Set(link.TenantId);
        var identity = new ClaimsIdentity(
            [
                new Claim(ApiClaims.TenantId, link.TenantId.ToString()),
                new Claim(ApiClaims.ActorType, ApiClaims.ActorLinkSession),
                new Claim(ApiClaims.ActorId, "link:" + link.LinkSessionId),
                new Claim(ApiClaims.PatientId, link.PatientId.ToString()),
                new Claim(ApiClaims.LinkSessionId, link.LinkSessionId.ToString()),
            ],
            SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failed = (await HandleAuthenticateOnceSafeAsync()).Failure is not null;
        Response.Headers.WWWAuthenticate = failed
            ? "Bearer realm=\"aggregator\", error=\"invalid_token\""
            : "Bearer realm=\"aggregator\"";
        await WriteProblemAsync(StatusCodes.Status401Unauthorized, failed
            ? "The API key or session token is not valid (unknown, revoked or expired)."
            : "An API key or patient session token is required: Authorization: Bearer {credential}.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(StatusCodes.Status403Forbidden, "This credential may not do that.");

    private async Task WriteProblemAsync(int status, string detail)
    {
        Response.StatusCode = status;
        await Context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails
            {
                Status = status,
                Type = ProblemTypes.ForStatus(status),
                Title = status == StatusCodes.Status401Unauthorized ? "Unauthorized" : "Forbidden",
                Detail = detail,
            },
        });
    }
}

public static class ApiClaims
{
    public const string TenantId = "tenant_id";
    public const string ActorType = "actor_type";
    public const string ActorId = "actor_id";
    public const string ActorApiKey = "api_key";
    public const string ActorSession = "patient_session";

    /// <summary>The hosted Connect page, acting for one link session's patient (directory, its own connections).</summary>
    public const string ActorLinkSession = "link_session";
    public const string PatientId = "patient_id";
    public const string LinkSessionId = "link_session_id";
    public const string ExpiresAt = "expires_at";

    /// <summary>When a session token was issued (UTC ticks, the precision the token and the revocation cut-off keep): a stream it opened ends once the patient revokes it.</summary>
    public const string IssuedAt = "issued_at";
}
