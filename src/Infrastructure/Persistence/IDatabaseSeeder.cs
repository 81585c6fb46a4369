namespace Aggregator.Infrastructure.Persistence;

/// <summary>Reference data the migration owner writes once the schema is current (idempotent).</summary>
public interface IDatabaseSeeder
{
    Task SeedAsync(CancellationToken cancellationToken);
}
