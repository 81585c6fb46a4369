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

    /// <summary>The longest action stored; a longer one is cut.</summary>
    public const int MaxActionLength = 100;

    /// <summary>An operator command (the CLI) that changed or showed something of a tenant's.</summary>
    public static AuditEvent ByOperator(Guid tenantId, string action, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(action);
        return new AuditEvent
        {
            TenantId = tenantId,
            ActorType = AuditActorType.Operator,
            ActorId = "cli",
            Action = action.Length <= MaxActionLength ? action : action[..MaxActionLength],
            OccurredAt = at,
        };
    }
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
