using Aggregator.Domain.Auditing;
using Aggregator.Domain.Connections;
using Aggregator.Domain.Patients;
using Aggregator.Domain.Providers;
using Aggregator.Domain.Records;
using Aggregator.Domain.Sync;
using Aggregator.Domain.Tenants;
using Aggregator.Domain.Webhooks;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Infrastructure.Persistence;

/// <summary>Aggregator's own data (DESIGN §2). Hangfire keeps its jobs in its own schema beside it.</summary>
public sealed class AggregatorDbContext(DbContextOptions<AggregatorDbContext> options) : DbContext(options)
{
    public DbSet<Tenant> Tenants => Set<Tenant>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<Patient> Patients => Set<Patient>();
    public DbSet<Provider> Providers => Set<Provider>();
    public DbSet<ClientRegistration> ClientRegistrations => Set<ClientRegistration>();
    public DbSet<Connection> Connections => Set<Connection>();
    public DbSet<AuthRequest> AuthRequests => Set<AuthRequest>();
    public DbSet<SourceResource> SourceResources => Set<SourceResource>();
    public DbSet<SyncRun> SyncRuns => Set<SyncRun>();
    public DbSet<RecordItem> RecordItems => Set<RecordItem>();
    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();

    /// <summary>The one way our context is configured: the host, design-time tooling and tests share it.</summary>
    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder options, Npgsql.NpgsqlDataSource dataSource)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options
            .UseNpgsql(dataSource, npgsql => npgsql
                .MigrationsAssembly(typeof(AggregatorDbContext).Assembly.GetName().Name)
                .MigrationsHistoryTable("__ef_migrations_history"))
            .UseSnakeCaseNamingConvention();
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(AggregatorDbContext).Assembly);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        ArgumentNullException.ThrowIfNull(configurationBuilder);
        // Enums are stored as their names, so rows stay readable and reordering an enum is safe.
        configurationBuilder.Properties<Enum>().HaveConversion<string>().HaveMaxLength(32);
    }
}
