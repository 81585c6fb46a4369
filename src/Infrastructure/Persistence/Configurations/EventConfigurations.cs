using Aggregator.Domain.Events;
using Aggregator.Domain.Patients;
using Aggregator.Domain.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Aggregator.Infrastructure.Persistence.Configurations;

internal sealed class PatientEventConfiguration : IEntityTypeConfiguration<PatientEvent>
{
    public void Configure(EntityTypeBuilder<PatientEvent> builder)
    {
        builder.ToTable("patient_events");
        builder.HasKey(e => new { e.PatientId, e.Sequence });
        builder.Property(e => e.Type).HasMaxLength(64);
        builder.Property(e => e.Data).HasColumnType("jsonb");
        // The retention sweep deletes by age.
        builder.HasIndex(e => e.OccurredAt);
        builder.HasIndex(e => e.TenantId);
        builder.HasOne<Patient>().WithMany().HasForeignKey(e => e.PatientId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class EventStreamTicketConfiguration : IEntityTypeConfiguration<EventStreamTicket>
{
    public void Configure(EntityTypeBuilder<EventStreamTicket> builder)
    {
        builder.ToTable("event_stream_tickets");
        builder.Property(t => t.ActorType).HasMaxLength(32);
        builder.Property(t => t.ActorId).HasMaxLength(200);
        builder.HasIndex(t => t.TicketHash).IsUnique();
        builder.HasIndex(t => t.ExpiresAt);
        builder.HasIndex(t => t.TenantId);
        builder.HasOne<Tenant>().WithMany().HasForeignKey(t => t.TenantId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Patient>().WithMany().HasForeignKey(t => t.PatientId).OnDelete(DeleteBehavior.Cascade);
    }
}
