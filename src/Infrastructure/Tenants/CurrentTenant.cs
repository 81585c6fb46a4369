namespace Aggregator.Infrastructure.Tenants;

/// <summary>
/// The tenant whose data this scope may see. Unset, tenant-owned rows are invisible, to the EF filter and
/// to PostgreSQL's row-level security alike (it fails closed). Work that acts for no tenant (authentication,
/// the OAuth callback, the dispatcher, sweeps, the audit writer, operator commands) says so explicitly, for
/// no longer than it needs, with <see cref="ActAsSystem"/>; tools that only ever do such work use <see cref="ForSystem"/>.
/// </summary>
public sealed class CurrentTenant
{
    private readonly bool _alwaysSystem;
    private int _systemDepth;

    public CurrentTenant()
    {
    }

    private CurrentTenant(bool alwaysSystem) => _alwaysSystem = alwaysSystem;

    public Guid? TenantId { get; private set; }

    /// <summary>True while this scope acts for no tenant and may see every tenant's rows.</summary>
    public bool IsSystem => _alwaysSystem || Volatile.Read(ref _systemDepth) > 0;

    public static CurrentTenant ForSystem() => new(alwaysSystem: true);

    public void Set(Guid tenantId)
    {
        if (TenantId is { } existing && existing != tenantId)
        {
            throw new InvalidOperationException("A scope's tenant cannot change once set.");
        }

        TenantId = tenantId;
    }

    public Guid Required => TenantId ?? throw new InvalidOperationException("No tenant is set for this scope.");

    /// <summary>
    /// Acts for no tenant until the result is disposed: queries see every tenant's rows. Keep it around the
    /// lookups that must span tenants (a key by its hash, a callback by its state), then <see cref="Set"/> the tenant found.
    /// </summary>
    public IDisposable ActAsSystem()
    {
        Interlocked.Increment(ref _systemDepth);
        return new SystemScope(this);
    }

    /// <summary>For a scope that does nothing but system work (an operator command): acts for no tenant until the scope ends.</summary>
    public void ActAsSystemForScope() => Interlocked.Increment(ref _systemDepth);

    private sealed class SystemScope(CurrentTenant owner) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref owner._systemDepth);
            }
        }
    }
}
