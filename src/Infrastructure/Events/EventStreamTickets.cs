using Aggregator.Infrastructure.Tenants;
using System.Security.Cryptography;
using System.Text;
using Aggregator.Domain.Events;
using Aggregator.Infrastructure.Persistence;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Infrastructure.Events;

/// <summary>Who a redeemed ticket speaks for.</summary>
public sealed record TicketHolder(Guid TenantId, Guid PatientId, string ActorType, string ActorId, DateTimeOffset? CredentialIssuedAt, DateTimeOffset? CredentialExpiresAt);

/// <summary>
/// Tickets for a patient's event stream: a browser's <c>EventSource</c> cannot send an <c>Authorization</c>
/// header, so its page asks for a ticket (with its credential) and opens <c>?ticket=</c>. Stored hashed in
/// PostgreSQL, so any replica redeems any replica's ticket; single use, 60 seconds.
/// </summary>
public sealed class EventStreamTickets(AggregatorDbContext db, CurrentTenant tenant, TimeProvider clock)
{
    public const string Prefix = "aggt_";
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);

    public async Task<(string Ticket, DateTimeOffset ExpiresAt)> IssueAsync(Guid tenantId, Guid patientId, string actorType, string actorId,
        DateTimeOffset? credentialIssuedAt, DateTimeOffset? credentialExpiresAt, CancellationToken cancellationToken)
    {
        var ticket = Prefix + WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        var expiresAt = clock.GetUtcNow() + Lifetime;
        if (credentialExpiresAt is { } credentialEnd && credentialEnd < expiresAt)
        {
            expiresAt = credentialEnd;
        }

        db.EventStreamTickets.Add(new EventStreamTicket
        {
            Id = Guid.CreateVersion7(),
            TenantId = tenantId,
            PatientId = patientId,
            TicketHash = Hash(ticket),
            ActorType = actorType,
            ActorId = actorId,
            ExpiresAt = expiresAt,
            CredentialIssuedAt = credentialIssuedAt,
            CredentialExpiresAt = credentialExpiresAt,
        });
        await db.SaveChangesAsync(cancellationToken);
        return (ticket, expiresAt);
    }

    /// <summary>Spends a ticket; null when it is unknown, spent or expired. Runs before any tenant is known.</summary>
    public async Task<TicketHolder?> RedeemAsync(string ticket, CancellationToken cancellationToken)
    {
        if (!ticket.StartsWith(Prefix, StringComparison.Ordinal) || ticket.Length > 100)
        {
            return null;
        }

        var hash = Hash(ticket);
        var now = clock.GetUtcNow();
        // The ticket says whose it is: spent as system work; the caller then acts as the tenant it names.
        using var system = tenant.ActAsSystem();
        var spent = await db.Database.SqlQuery<TicketHolder>(
            $"""
            UPDATE event_stream_tickets SET used_at = {now}
            WHERE ticket_hash = {hash} AND used_at IS NULL AND expires_at > {now}
            RETURNING tenant_id, patient_id, actor_type, actor_id, credential_issued_at, credential_expires_at
            """).ToListAsync(cancellationToken);
        return spent.Count == 1 ? spent[0] : null;
    }

    private static byte[] Hash(string ticket) => SHA256.HashData(Encoding.UTF8.GetBytes(ticket));
}
