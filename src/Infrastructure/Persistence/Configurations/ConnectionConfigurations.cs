using Aggregator.Domain.Connections;
using Aggregator.Domain.Patients;
using Aggregator.Domain.Providers;
using Aggregator.Domain.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Aggregator.Infrastructure.Persistence.Configurations;

internal sealed class ConnectionConfiguration : IEntityTypeConfiguration<Connection>
{
    public void Configure(EntityTypeBuilder<Connection> builder)
    {
        builder.ToTable("connections");
        builder.Property(c => c.ProviderPatientId).HasMaxLength(200);
        builder.Property(c => c.GrantedScopes).HasMaxLength(4000);
        builder.Property(c => c.RowVersion).IsRowVersion();
        // One link per patient and provider endpoint; reconnecting re-authorises the same row.
        builder.HasIndex(c => new { c.PatientId, c.ProviderId }).IsUnique();
        builder.HasIndex(c => c.TenantId);
        builder.HasIndex(c => c.ProviderId);
        // The confirmation sweep: unconfirmed bindings by the age of their result code.
        builder.HasIndex(c => c.ResultCodeIssuedAt).HasFilter("confirmed_at IS NULL");
        // The dispatcher's claim: due active connections in next_sync_at order.
        builder.HasIndex(c => c.NextSyncAt).HasFilter("status = 'Active'");
        builder.HasOne<Tenant>().WithMany().HasForeignKey(c => c.TenantId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Patient>().WithMany().HasForeignKey(c => c.PatientId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Provider>().WithMany().HasForeignKey(c => c.ProviderId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class AuthRequestConfiguration : IEntityTypeConfiguration<AuthRequest>
{
    public void Configure(EntityTypeBuilder<AuthRequest> builder)
    {
        builder.ToTable("auth_requests");
        builder.Property(a => a.ReturnUrl).HasMaxLength(2048);
        builder.Property(a => a.RedirectUri).HasMaxLength(2048);
        builder.Property(a => a.Issuer).HasMaxLength(2048);
        builder.HasIndex(a => a.StateHash).IsUnique();
        builder.HasIndex(a => a.ExpiresAt);
        builder.HasIndex(a => a.ConnectionId);
        builder.HasOne<Tenant>().WithMany().HasForeignKey(a => a.TenantId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Connection>().WithMany().HasForeignKey(a => a.ConnectionId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class LinkSessionConfiguration : IEntityTypeConfiguration<LinkSession>
{
    public void Configure(EntityTypeBuilder<LinkSession> builder)
    {
        builder.ToTable("link_sessions");
        builder.Property(s => s.ReturnUrl).HasMaxLength(2048);
        builder.Property(s => s.Reason).HasMaxLength(64);
        builder.Property(s => s.ConnectionIds).HasColumnType("uuid[]");
        builder.HasIndex(s => s.LinkTokenHash).IsUnique();
        // The expiry sweep: active sessions by their end.
        builder.HasIndex(s => s.ExpiresAt).HasFilter("status = 'Active'");
        builder.HasIndex(s => s.TenantId);
        builder.HasIndex(s => s.PatientId);
        builder.HasOne<Tenant>().WithMany().HasForeignKey(s => s.TenantId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Patient>().WithMany().HasForeignKey(s => s.PatientId).OnDelete(DeleteBehavior.Cascade);
    }
}
