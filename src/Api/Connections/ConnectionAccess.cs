using Aggregator.Api.Authentication;
using Aggregator.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Api.Connections;

/// <summary>Whether the caller may touch a connection: it exists for the tenant and belongs to a patient the caller may touch.</summary>
public static class ConnectionAccess
{
    public static async Task<bool> AllowsAsync(AggregatorDbContext db, HttpContext http, Guid connectionId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(http);
        var patientId = await db.Connections.Where(c => c.Id == connectionId).Select(c => (Guid?)c.PatientId).SingleOrDefaultAsync(cancellationToken);
        if (patientId is not { } id || !PatientAccess.Allows(http.User, id))
        {
            return false;
        }

        // Whose data the call touches, for its audit event.
        http.Items[Auditing.AuditEndpoints.PatientItem] = id;
        return true;
    }
}
