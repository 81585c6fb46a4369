using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Aggregator.Sandbox.Faults;

/// <summary>
/// The patient a request's bearer token names, read without validating it: faults and request counts are scoped by
/// it even for expired or revoked tokens (which the FHIR API then refuses as usual).
/// </summary>
public static class AccessTokenPatient
{
    public static string? Of(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        try
        {
            var token = new JsonWebToken(header["Bearer ".Length..].Trim());
            return token.TryGetPayloadValue<string>("patient", out var patient) ? patient : null;
        }
        catch (ArgumentException)
        {
            return null;
        }
        catch (SecurityTokenException)
        {
            return null;
        }
    }
}
