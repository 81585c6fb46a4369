using Aggregator.Domain.Tenants;

namespace Aggregator.Domain.Events;

/// <summary>
/// A single-use, short-lived credential for one patient's event stream, for clients that cannot send an
/// <c>Authorization</c> header (a browser's <c>EventSource</c>). It speaks for whoever asked for it.
/// </summary>
public sealed class EventStreamTicket : ITenantOwned
{
    public Guid Id { get; set; }
    public Guid TenantId { get; set; }
    public Guid PatientId { get; set; }

    /// <summary>SHA-256 of the ticket; the ticket itself is never stored.</summary>
    public required byte[] TicketHash { get; set; }

    /// <summary>The credential that asked for it (<c>api_key</c>, <c>session_token</c> or <c>link_token</c>) and its id.</summary>
    public required string ActorType { get; set; }

    public required string ActorId { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? UsedAt { get; set; }

    /// <summary>
    /// When the credential that asked for it was issued and when it expires (session and link tokens; null for an API
    /// key): the stream the ticket opens stands and falls with that credential, revocation included.
    /// </summary>
    public DateTimeOffset? CredentialIssuedAt { get; set; }

    public DateTimeOffset? CredentialExpiresAt { get; set; }
}
