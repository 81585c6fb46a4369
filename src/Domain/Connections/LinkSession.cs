using Aggregator.Domain.Tenants;

namespace Aggregator.Domain.Connections;

/// <summary>
/// One visit of a patient to the hosted Connect page: the partner asks for it, the patient opens its url
/// (a single-use link token), links providers, and ends it with Done or Cancel. Done hands the partner a
/// result code that its backend exchanges to confirm every connection the session made.
/// </summary>
public sealed class LinkSession : ITenantOwned
{
    public Guid Id { get; set; }
    public Guid TenantId { get; set; }
    public Guid PatientId { get; set; }

    /// <summary>One of the tenant's registered return urls; the page ends there.</summary>
    public required string ReturnUrl { get; set; }

    /// <summary>Update mode: the connection to re-authorise (instead of linking new providers).</summary>
    public Guid? UpdateConnectionId { get; set; }

    /// <summary>SHA-256 of the link token the url carries; the token itself is never stored.</summary>
    public required byte[] LinkTokenHash { get; set; }

    /// <summary>When the page spent the link token (it works once).</summary>
    public DateTimeOffset? OpenedAt { get; set; }

    public LinkSessionStatus Status { get; set; } = LinkSessionStatus.Active;

    /// <summary>When the patient accepted the data-use statement.</summary>
    public DateTimeOffset? ConsentedAt { get; set; }

    /// <summary>The connections this session linked or re-authorised, in order.</summary>
    public List<Guid> ConnectionIds { get; set; } = [];

    /// <summary>SHA-256 of the result code Done handed out; null once exchanged.</summary>
    public byte[]? ResultCodeHash { get; set; }

    public DateTimeOffset? ResultCodeIssuedAt { get; set; }
    public DateTimeOffset? ExchangedAt { get; set; }

    /// <summary>Why the session ended in error (the connect flow's reason words).</summary>
    public string? Reason { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
}

public enum LinkSessionStatus
{
    Active,
    Completed,
    Cancelled,
    Failed,
    Expired,
}
