using Aggregator.Sandbox.Fhir;
using Aggregator.Sandbox.Personas;
using Microsoft.AspNetCore.Authentication;
using OpenIddict.Abstractions;
using OpenIddict.Validation.AspNetCore;

namespace Aggregator.Sandbox.Authorization;

/// <summary>What a valid access token allows at one FHIR base: one patient, the granted scopes.</summary>
public sealed record FhirGrant(string PatientId, IReadOnlyList<string> Scopes)
{
    public ResourceAccess AccessTo(string resourceType) => SmartScopes.AccessTo(Scopes, resourceType);
}

/// <summary>
/// Bearer checks of the FHIR API, as RFC 6750 has them: no or a bad, expired or revoked token (or one issued for
/// another base) is 401 with <c>WWW-Authenticate</c>; a resource type outside the granted scopes is 403.
/// </summary>
public static class FhirAuthorization
{
    public static async Task<(FhirGrant? Grant, FhirResult? Failure)> AuthenticateAsync(HttpContext context, FhirBase fhirBase)
    {
        var baseUrl = fhirBase.Url(context.Request);
        if (!context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return (null, Unauthorized(fhirBase, baseUrl, error: null, "An access token is required."));
        }

        var result = await context.AuthenticateAsync(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme);
        if (result.Principal is not { } principal)
        {
            return (null, Unauthorized(fhirBase, baseUrl, "invalid_token", "The access token is invalid, expired or revoked."));
        }

        // Issued for this base under any of the sandbox's names (the request's root, Sandbox:BaseUrl, Sandbox:PublicBaseUrl).
        var personas = context.RequestServices.GetRequiredService<PersonaCatalog>();
        var audiences = principal.GetAudiences();
        if (!audiences.Any(a => personas.TryFindBase(a, context.Request, out var named) && named == fhirBase))
        {
            return (null, Unauthorized(fhirBase, baseUrl, "invalid_token", "The access token was not issued for this FHIR server."));
        }

        return principal.GetClaim(OAuthEndpoints.PatientClaim) is { Length: > 0 } patientId
            ? (new FhirGrant(patientId, principal.GetScopes().ToList()), null)
            : (null, Unauthorized(fhirBase, baseUrl, "invalid_token", "The access token has no patient context."));
    }

    public static FhirResult InsufficientScope(FhirBase fhirBase, HttpRequest request, string resourceType, string interaction)
    {
        var result = FhirResult.Outcome(fhirBase.Version, StatusCodes.Status403Forbidden, "forbidden",
            $"The granted scopes do not allow {interaction} of {resourceType}.");
        result.Headers["WWW-Authenticate"] =
            $"Bearer realm=\"{fhirBase.Url(request)}\", error=\"insufficient_scope\", scope=\"patient/{resourceType}.rs\"";
        return result;
    }

    public static FhirResult OtherPatient(FhirBase fhirBase) =>
        FhirResult.Outcome(fhirBase.Version, StatusCodes.Status403Forbidden, "forbidden", "The access token does not cover that patient.");

    private static FhirResult Unauthorized(FhirBase fhirBase, string baseUrl, string? error, string description)
    {
        var result = FhirResult.Outcome(fhirBase.Version, StatusCodes.Status401Unauthorized, "login", description);
        result.Headers["WWW-Authenticate"] = error is null
            ? $"Bearer realm=\"{baseUrl}\""
            : $"Bearer realm=\"{baseUrl}\", error=\"{error}\", error_description=\"{description}\"";
        return result;
    }
}
