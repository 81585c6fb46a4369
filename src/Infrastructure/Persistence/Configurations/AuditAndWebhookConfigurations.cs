using Aggregator.Domain.Auditing;
using Aggregator.Domain.Tenants;
using Aggregator.Domain.Webhooks;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Aggregator.Infrastructure.Persistence.Configurations;

internal sealed class AuditEventConfiguration : IEntityTypeConfiguration<AuditEvent>
{
    public void Configure(EntityTypeBuilder<AuditEvent> builder)
    {
        builder.ToTable("audit_events");
        builder.Property(a => a.Id).UseIdentityAlwaysColumn();
        builder.Property(a => a.ActorId).HasMaxLength(200);
        builder.Property(a => a.Action).HasMaxLength(AuditEvent.MaxActionLength);
        builder.Property(a => a.RequestId).HasMaxLength(100);
        builder.HasIndex(a => new { a.TenantId, a.OccurredAt });
        builder.HasIndex(a => new { a.PatientId, a.OccurredAt });
    }
}

internal sealed class WebhookDeliveryConfiguration : IEntityTypeConfiguration<WebhookDelivery>
{
    public void Configure(EntityTypeBuilder<WebhookDelivery> builder)
    {
        builder.ToTable("webhook_deliveries");
        builder.Property(w => w.EventType).HasMaxLength(100);
        // Text, not jsonb: the body is signed and sent exactly as it was composed.
        builder.Property(w => w.Payload).HasColumnType("text");
        builder.HasIndex(w => new { w.Status, w.NextAttemptAt });
        builder.HasIndex(w => new { w.TenantId, w.CreatedAt });
        builder.HasOne<Tenant>().WithMany().HasForeignKey(w => w.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}
