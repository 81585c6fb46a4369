using Aggregator.Domain.Patients;
using Aggregator.Domain.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Aggregator.Infrastructure.Persistence.Configurations;

internal sealed class PatientConfiguration : IEntityTypeConfiguration<Patient>
{
    public void Configure(EntityTypeBuilder<Patient> builder)
    {
        builder.ToTable("patients");
        builder.Property(p => p.ExternalId).HasMaxLength(200);
        builder.HasIndex(p => new { p.TenantId, p.ExternalId }).IsUnique();
        // Keyset paging of a tenant's patients.
        builder.HasIndex(p => new { p.TenantId, p.Id });
        builder.HasOne<Tenant>().WithMany().HasForeignKey(p => p.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}
