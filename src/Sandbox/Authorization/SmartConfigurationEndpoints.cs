using System.Text.Json.Serialization;
using Aggregator.Sandbox.Fhir;
using Aggregator.Sandbox.Personas;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Aggregator.Sandbox.Authorization;

/// <summary><c>{R4 base}/.well-known/smart-configuration</c>: SMART discovery (DSTU2 clients read <c>/metadata</c>).</summary>
public static class SmartConfigurationEndpoints
{
    public static IEndpointRouteBuilder MapSmartConfigurationEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/{persona}/fhir/{version}/.well-known/smart-configuration", SmartConfiguration).WithTags("OAuth");
        return app;
    }

    public static Results<Ok<SmartConfiguration>, FhirResult> SmartConfiguration(string persona, string version, HttpContext context,
        PersonaCatalog personas, SandboxUrls urls, CancellationToken cancellationToken)
    {
        if (!personas.TryGetBase(persona, version, out var fhirBase) || fhirBase.Version != FhirVersion.R4)
        {
            return FhirResult.Outcome(FhirVersion.R4, StatusCodes.Status404NotFound, "not-found",
                "SMART configuration is published on R4 bases; DSTU2 clients read the Conformance statement at /metadata.");
        }

        // Servers call the token, revocation and introspection endpoints and the keys; a patient's browser is sent to
        // authorize, which may live at another name (Sandbox:PublicBaseUrl).
        var root = urls.ServerRoot(context.Request);
        var browserRoot = urls.BrowserRoot(context.Request);
        var overrides = fhirBase.Persona.Options.DiscoveryOverrides;
        string Endpoint(string name, string own) => overrides.TryGetValue(name, out var other) ? other : own;
        return TypedResults.Ok(new SmartConfiguration(
            Issuer: $"{root}/",
            JwksUri: $"{root}/.well-known/jwks",
            AuthorizationEndpoint: Endpoint("authorization_endpoint", $"{browserRoot}/oauth/authorize"),
            TokenEndpoint: Endpoint("token_endpoint", $"{root}/oauth/token"),
            RevocationEndpoint: Endpoint("revocation_endpoint", $"{root}/oauth/revoke"),
            IntrospectionEndpoint: Endpoint("introspection_endpoint", $"{root}/oauth/introspect"),
            TokenEndpointAuthMethodsSupported: ["client_secret_basic", "private_key_jwt"],
            TokenEndpointAuthSigningAlgValuesSupported: ["RS384", "ES384", "RS256"],
            GrantTypesSupported: ["authorization_code", "refresh_token"],
            ResponseTypesSupported: ["code"],
            CodeChallengeMethodsSupported: ["S256"],
            // OpenIddict names itself (iss) in every authorization response (RFC 9207).
            AuthorizationResponseIssParameterSupported: true,
            ScopesSupported: SmartScopes.Supported,
            Capabilities:
            [
                "launch-standalone", "client-public", "client-confidential-symmetric", "client-confidential-asymmetric",
                "context-standalone-patient", "sso-openid-connect", "permission-offline", "permission-online",
                "permission-patient", "permission-v1", "permission-v2",
            ]));
    }
}

/// <summary>The SMART App Launch discovery document (snake_case, as the specification spells it).</summary>
public sealed record SmartConfiguration(
    [property: JsonPropertyName("issuer")] string Issuer,
    [property: JsonPropertyName("jwks_uri")] string JwksUri,
    [property: JsonPropertyName("authorization_endpoint")] string AuthorizationEndpoint,
    [property: JsonPropertyName("token_endpoint")] string TokenEndpoint,
    [property: JsonPropertyName("revocation_endpoint")] string RevocationEndpoint,
    [property: JsonPropertyName("introspection_endpoint")] string IntrospectionEndpoint,
    [property: JsonPropertyName("token_endpoint_auth_methods_supported")] IReadOnlyList<string> TokenEndpointAuthMethodsSupported,
    [property: JsonPropertyName("token_endpoint_auth_signing_alg_values_supported")] IReadOnlyList<string> TokenEndpointAuthSigningAlgValuesSupported,
    [property: JsonPropertyName("grant_types_supported")] IReadOnlyList<string> GrantTypesSupported,
    [property: JsonPropertyName("response_types_supported")] IReadOnlyList<string> ResponseTypesSupported,
    [property: JsonPropertyName("code_challenge_methods_supported")] IReadOnlyList<string> CodeChallengeMethodsSupported,
    [property: JsonPropertyName("authorization_response_iss_parameter_supported")] bool AuthorizationResponseIssParameterSupported,
    [property: JsonPropertyName("scopes_supported")] IReadOnlyList<string> ScopesSupported,
    [property: JsonPropertyName("capabilities")] IReadOnlyList<string> Capabilities);
