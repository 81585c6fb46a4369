namespace Aggregator.Infrastructure.Persistence;

/// <summary>What this process knows about the database schema: once migrated, it stays migrated.</summary>
public sealed class DatabaseState
{
    private volatile bool _migrated;

    public bool IsMigrated => _migrated;

    public void MarkMigrated() => _migrated = true;
}
