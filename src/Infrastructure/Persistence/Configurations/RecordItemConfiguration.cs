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
        builder.Property(i => i.FhirType).HasMaxLength(64);
        builder.Property(i => i.ReferenceRange).HasColumnType("jsonb");
        // The pre-rendered JSON every read sends as is. A row with all three is past PostgreSQL's 2 KB threshold, so they
        // are compressed; with the default (pglz), decompressing the page's items took an eighth of the database's CPU
        // under a load of filtered pages, and LZ4 a third of that (PostgreSQL 14 and later built with it, as the
        // official images and the distributions' packages are).
        builder.Property(i => i.Compact).UseCompressionMethod("lz4");
        builder.Property(i => i.Fhir).UseCompressionMethod("lz4");
        builder.Property(i => i.Provenance).UseCompressionMethod("lz4");
        builder.HasIndex(i => new { i.PatientId, i.Category, i.ItemKey }).IsUnique();
        // The category read: one keyset range scan, newest first.
        builder.HasIndex(i => new { i.PatientId, i.Category, i.EffectiveAt, i.Id }).IsDescending(false, false, true, true);
        // The change feed: items of a patient after a record version.
        builder.HasIndex(i => new { i.PatientId, i.Version });
        // The code filter: any coding of the item.
        builder.HasIndex(i => i.Codes).HasMethod("gin");
        builder.HasIndex(i => i.TenantId);
        builder.HasMany(i => i.SourceRows).WithOne().HasForeignKey(s => s.ItemId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Patient>().WithMany().HasForeignKey(i => i.PatientId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RecordItemSourceConfiguration : IEntityTypeConfiguration<RecordItemSource>
{
    public void Configure(EntityTypeBuilder<RecordItemSource> builder)
    {
        builder.ToTable("record_item_sources");
        builder.HasKey(s => new { s.ItemId, s.Ordinal });
        builder.Property(s => s.Provider).HasMaxLength(200);
        builder.Property(s => s.ResourceType).HasMaxLength(64);
        builder.Property(s => s.ResourceId).HasMaxLength(256);
        // The provider filter and a purge: the items a connection states.
        builder.HasIndex(s => new { s.ConnectionId, s.ItemId });
        builder.HasIndex(s => s.PatientId);
        builder.HasIndex(s => s.TenantId);
    }
}

internal sealed class RecordSupportingResourceConfiguration : IEntityTypeConfiguration<RecordSupportingResource>
{
    public void Configure(EntityTypeBuilder<RecordSupportingResource> builder)
    {
        builder.ToTable("record_supporting_resources");
        builder.HasKey(s => new { s.PatientId, s.Id });
        builder.Property(s => s.Id).HasMaxLength(64);
        builder.Property(s => s.ResourceType).HasMaxLength(64);
        builder.HasIndex(s => s.TenantId);
        builder.HasOne<Patient>().WithMany().HasForeignKey(s => s.PatientId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RecordFirstPageConfiguration : IEntityTypeConfiguration<RecordFirstPage>
{
    public void Configure(EntityTypeBuilder<RecordFirstPage> builder)
    {
        builder.ToTable("record_first_pages");
        builder.HasKey(f => new { f.PatientId, f.Listing });
        builder.Property(f => f.Listing).HasMaxLength(64);
        builder.HasIndex(f => f.TenantId);
        builder.HasOne<Patient>().WithMany().HasForeignKey(f => f.PatientId).OnDelete(DeleteBehavior.Cascade);
    }
}
