using System.Security.Claims;

namespace Aggregator.Api.Authentication;

/// <summary>
/// Whether the caller may touch a patient: a tenant key may touch any of its tenant's patients (the
/// tenant filter does the rest); a patient session token only its own. Refusals read as 404, like
/// ids that do not exist, so a token cannot probe for other patients.
/// </summary>
public static class PatientAccess
{
    public static bool Allows(ClaimsPrincipal user, Guid patientId)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.FindFirstValue(ApiClaims.ActorType) switch
        {
            ApiClaims.ActorApiKey => true,
            ApiClaims.ActorSession => Guid.TryParse(user.FindFirstValue(ApiClaims.PatientId), out var own) && own == patientId,
            _ => false,
        };
    }
}
