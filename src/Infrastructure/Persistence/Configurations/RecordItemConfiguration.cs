using Aggregator.Domain.Patients;
using Aggregator.Domain.Records;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Aggregator.Infrastructure.Persistence.Configurations;

internal sealed class RecordItemConfiguration : IEntityTypeConfiguration<RecordItem>
{
    public void Configure(EntityTypeBuilder<RecordItem> builder)
    {
        builder.ToTable("record_items");
        builder.Property(i => i.Category).HasMaxLength(64);
        builder.Property(i => i.ItemKey).HasMaxLength(512);
        builder.Property(i => i.Status).HasMaxLength(64);
        builder.Property(i => i.Display).HasColumnType("jsonb");
        builder.Property(i => i.Sources).HasColumnType("jsonb");
        builder.HasIndex(i => new { i.PatientId, i.Category, i.ItemKey }).IsUnique();
        // The category read: one keyset range scan, newest first.
        builder.HasIndex(i => new { i.PatientId, i.Category, i.EffectiveAt, i.Id }).IsDescending(false, false, true, true);
        // The change feed: items of a patient after a record version.
        builder.HasIndex(i => new { i.PatientId, i.Version });
        builder.HasIndex(i => i.TenantId);
        builder.HasOne<Patient>().WithMany().HasForeignKey(i => i.PatientId).OnDelete(DeleteBehavior.Cascade);
    }
}
