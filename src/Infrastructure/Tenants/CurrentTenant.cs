namespace Aggregator.Infrastructure.Tenants;

/// <summary>
/// The tenant whose data this scope may see. Unset, tenant-owned queries see nothing; system work
/// (jobs that span tenants, operator commands) says so explicitly with <see cref="ForSystem"/>.
/// </summary>
public sealed class CurrentTenant
{
    public Guid? TenantId { get; private set; }

    /// <summary>True for system work that spans tenants.</summary>
    public bool IsSystem { get; private set; }

    public static CurrentTenant ForSystem() => new() { IsSystem = true };

    public void Set(Guid tenantId)
    {
        if (TenantId is { } existing && existing != tenantId)
        {
            throw new InvalidOperationException("A scope's tenant cannot change once set.");
        }

        TenantId = tenantId;
    }

    public Guid Required => TenantId ?? throw new InvalidOperationException("No tenant is set for this scope.");
}
