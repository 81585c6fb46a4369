namespace Aggregator.Domain.Tenants;

/// <summary>A row that belongs to one tenant; every query of it is filtered to the caller's tenant.</summary>
public interface ITenantOwned
{
    Guid TenantId { get; }
}
