using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Npgsql;

namespace Aggregator.Infrastructure.Persistence;

/// <summary>
/// Lets <c>dotnet ef migrations add</c> build the model without a running host or database:
/// <c>dotnet ef migrations add NAME --project src/Infrastructure --output-dir Persistence/Migrations</c>.
/// </summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<AggregatorDbContext>
{
    public AggregatorDbContext CreateDbContext(string[] args)
    {
        // Never opened: adding a migration only needs the model.
        var dataSource = NpgsqlDataSource.Create("Host=localhost;Database=aggregator_design");
        var options = new DbContextOptionsBuilder<AggregatorDbContext>();
        AggregatorDbContext.Configure(options, dataSource);
        return new AggregatorDbContext(options.Options).For(Tenants.CurrentTenant.ForSystem());
    }
}
