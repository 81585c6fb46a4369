using Aggregator.Domain.Providers;
using Aggregator.Domain.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Aggregator.Infrastructure.Persistence.Configurations;

internal sealed class ProviderConfiguration : IEntityTypeConfiguration<Provider>
{
    public void Configure(EntityTypeBuilder<Provider> builder)
    {
        builder.ToTable("providers");
        builder.Property(p => p.Slug).HasMaxLength(100);
        builder.Property(p => p.Name).HasMaxLength(300);
        builder.Property(p => p.Brand).HasMaxLength(200);
        builder.Property(p => p.FhirBaseUrl).HasMaxLength(2048);
        builder.Property(p => p.Origin).HasMaxLength(32);
        builder.Property(p => p.SyncPlan).HasMaxLength(64);
        builder.HasIndex(p => p.Slug).IsUnique();
        builder.HasIndex(p => p.FhirBaseUrl).IsUnique();
        builder.HasIndex(p => p.Brand);
    }
}

internal sealed class ClientRegistrationConfiguration : IEntityTypeConfiguration<ClientRegistration>
{
    public void Configure(EntityTypeBuilder<ClientRegistration> builder)
    {
        builder.ToTable("client_registrations");
        builder.Property(c => c.ClientId).HasMaxLength(500);
        builder.Property(c => c.KeyId).HasMaxLength(200);
        // One platform default per provider and one override per tenant and provider.
        builder.HasIndex(c => new { c.ProviderId, c.TenantId }).IsUnique().AreNullsDistinct(false);
        builder.HasOne<Provider>().WithMany().HasForeignKey(c => c.ProviderId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Tenant>().WithMany().HasForeignKey(c => c.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}
