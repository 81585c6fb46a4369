using Aggregator.Domain.Connections;
using Aggregator.Domain.Sync;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Aggregator.Infrastructure.Persistence.Configurations;

internal sealed class SourceResourceConfiguration : IEntityTypeConfiguration<SourceResource>
{
    public void Configure(EntityTypeBuilder<SourceResource> builder)
    {
        builder.ToTable("source_resources");
        builder.Property(r => r.Id).UseIdentityAlwaysColumn();
        builder.Property(r => r.ResourceType).HasMaxLength(64);
        builder.Property(r => r.ResourceId).HasMaxLength(128);
        builder.Property(r => r.VersionId).HasMaxLength(64);
        builder.Property(r => r.Resource).HasColumnType("jsonb");
        builder.Property(r => r.Original).HasColumnType("jsonb");
        builder.HasIndex(r => new { r.ConnectionId, r.ResourceType, r.ResourceId }).IsUnique();
        builder.HasIndex(r => r.TenantId);
        builder.HasOne<Connection>().WithMany().HasForeignKey(r => r.ConnectionId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class SyncRunConfiguration : IEntityTypeConfiguration<SyncRun>
{
    public void Configure(EntityTypeBuilder<SyncRun> builder)
    {
        builder.ToTable("sync_runs");
        builder.Property(r => r.TypeCounts).HasColumnType("jsonb");
        // Newest runs of a connection first.
        builder.HasIndex(r => new { r.ConnectionId, r.QueuedAt }).IsDescending(false, true);
        builder.HasIndex(r => r.TenantId);
        builder.Property(r => r.JobId).HasMaxLength(64);
        // The stranded-run sweep looks at unfinished runs only: a small part of a table that grows with every sync.
        builder.HasIndex(r => r.QueuedAt).HasFilter("status IN ('Queued', 'Running')");
        builder.HasOne<Connection>().WithMany().HasForeignKey(r => r.ConnectionId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class CoverageEntryConfiguration : IEntityTypeConfiguration<CoverageEntry>
{
    public void Configure(EntityTypeBuilder<CoverageEntry> builder)
    {
        builder.ToTable("connection_coverage");
        builder.HasKey(c => new { c.ConnectionId, c.ResourceType });
        builder.Property(c => c.ResourceType).HasMaxLength(64);
        builder.Property(c => c.Detail).HasMaxLength(1000);
        builder.HasOne<Connection>().WithMany().HasForeignKey(c => c.ConnectionId).OnDelete(DeleteBehavior.Cascade);
    }
}
