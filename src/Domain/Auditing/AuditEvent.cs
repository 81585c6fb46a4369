using Aggregator.Domain.Tenants;

namespace Aggregator.Domain.Auditing;

/// <summary>Who read or changed which patient's data.</summary>
public sealed class AuditEvent : ITenantOwned
{
    public long Id { get; set; }
    public Guid TenantId { get; set; }
    public AuditActorType ActorType { get; set; }
    public required string ActorId { get; set; }
    public Guid? PatientId { get; set; }
    public required string Action { get; set; }
    public DateTimeOffset OccurredAt { get; set; }
    public string? RequestId { get; set; }
}

public enum AuditActorType
{
    ApiKey,
    SessionToken,
    Operator,
    System,

    /// <summary>The hosted Connect page, acting for one link session's patient.</summary>
    LinkSession,
}
