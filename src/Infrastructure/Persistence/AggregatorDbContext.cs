using Aggregator.Domain.Auditing;
using Aggregator.Domain.Connections;
using Aggregator.Domain.Events;
using Aggregator.Domain.Patients;
using Aggregator.Domain.Providers;
using Aggregator.Domain.Records;
using Aggregator.Domain.Sync;
using Aggregator.Domain.Tenants;
using Aggregator.Domain.Webhooks;
using System.Linq.Expressions;
using Aggregator.Infrastructure.Tenants;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Infrastructure.Persistence;

/// <summary>Aggregator's own data (tenants, patients, connections, source resources, the merged record). Hangfire keeps its jobs in its own schema beside it.</summary>
/// <remarks>
/// The host pools its contexts (<see cref="DependencyInjection.AddAggregatorDbContext"/>): building one per request cost a
/// cached read most of its time. A context therefore takes its tenant after it is made, with <see cref="For"/>; until
/// then it acts for nobody and sees no tenant-owned row.
/// </remarks>
public sealed class AggregatorDbContext(DbContextOptions<AggregatorDbContext> options)
    : DbContext(options), IDataProtectionKeyContext
{
    /// <summary>EF's migrations history table (snake case, like every table of ours).</summary>
    public const string MigrationsHistoryTable = "__ef_migrations_history";

    public DbSet<Tenant> Tenants => Set<Tenant>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<Patient> Patients => Set<Patient>();
    public DbSet<Provider> Providers => Set<Provider>();
    public DbSet<ClientRegistration> ClientRegistrations => Set<ClientRegistration>();
    public DbSet<Connection> Connections => Set<Connection>();
    public DbSet<AuthRequest> AuthRequests => Set<AuthRequest>();
    public DbSet<LinkSession> LinkSessions => Set<LinkSession>();
    public DbSet<SourceResource> SourceResources => Set<SourceResource>();
    public DbSet<SyncRun> SyncRuns => Set<SyncRun>();
    public DbSet<CoverageEntry> Coverage => Set<CoverageEntry>();
    public DbSet<RecordItem> RecordItems => Set<RecordItem>();
    public DbSet<RecordItemSource> RecordItemSources => Set<RecordItemSource>();
    public DbSet<RecordSupportingResource> RecordSupportingResources => Set<RecordSupportingResource>();
    public DbSet<RecordFirstPage> RecordFirstPages => Set<RecordFirstPage>();
    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();
    public DbSet<PatientEvent> PatientEvents => Set<PatientEvent>();
    public DbSet<EventStreamTicket> EventStreamTickets => Set<EventStreamTicket>();

    /// <summary>ASP.NET Core Data Protection's key ring (token encryption, cursors), shared by every replica.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    /// <summary>The tenant this context acts for, and what <see cref="TenantSessionInterceptor"/> last set its connection session to.</summary>
    internal TenantSessionState SessionState { get; } = new();

    /// <summary>Makes this context act for <paramref name="tenant"/> (a scope's, or <see cref="CurrentTenant.ForSystem"/> for tools).</summary>
    public AggregatorDbContext For(CurrentTenant tenant)
    {
        SessionState.Bind(tenant);
        return this;
    }

    /// <summary>Acts for nobody again before it goes back to the pool: whoever leases it next sees nothing until bound.</summary>
    public override void Dispose()
    {
        SessionState.Bind(new CurrentTenant());
        base.Dispose();
    }

    /// <inheritdoc cref="Dispose"/>
    public override ValueTask DisposeAsync()
    {
        SessionState.Bind(new CurrentTenant());
        return base.DisposeAsync();
    }

    // Read by the tenant query filter; EF Core evaluates them per context instance.
    private bool AllTenants => SessionState.Tenant.IsSystem;

    private Guid CurrentTenantId => SessionState.Tenant.TenantId ?? Guid.Empty;

    /// <summary>
    /// A context for system work outside a host's scopes (migrations, tools): its session says so to row-level security,
    /// which otherwise shows nothing to a session that names no tenant.
    /// </summary>
    public static AggregatorDbContext ForSystem(Npgsql.NpgsqlDataSource dataSource)
    {
        var system = CurrentTenant.ForSystem();
        var options = new DbContextOptionsBuilder<AggregatorDbContext>();
        Configure(options, dataSource).AddInterceptors(TenantSessionInterceptor.Instance);
        return new AggregatorDbContext(options.Options).For(system);
    }

    /// <summary>The one way our context is configured: the host, design-time tooling and tests share it.</summary>
    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder options, Npgsql.NpgsqlDataSource dataSource)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options
            .UseNpgsql(dataSource, npgsql => npgsql
                .MigrationsAssembly(typeof(AggregatorDbContext).Assembly.GetName().Name)
                .MigrationsHistoryTable(MigrationsHistoryTable))
            .UseSnakeCaseNamingConvention();
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(AggregatorDbContext).Assembly);
        modelBuilder.Entity<DataProtectionKey>().ToTable("data_protection_keys");
        modelBuilder.HasDbFunction(typeof(DbText).GetMethod(nameof(DbText.Utf8))!).HasName("textsend").IsBuiltIn();

        foreach (var entity in modelBuilder.Model.GetEntityTypes().Where(e => typeof(ITenantOwned).IsAssignableFrom(e.ClrType)))
        {
            modelBuilder.Entity(entity.ClrType).HasQueryFilter(TenantFilter(entity.ClrType));
        }
    }

    /// <summary><c>row => AllTenants || row.TenantId == CurrentTenantId</c> for one entity type.</summary>
    private LambdaExpression TenantFilter(Type entityType)
    {
        var row = Expression.Parameter(entityType, "row");
        var context = Expression.Constant(this);
        return Expression.Lambda(
            Expression.OrElse(
                Expression.Property(context, nameof(AllTenants)),
                Expression.Equal(
                    Expression.Property(row, nameof(ITenantOwned.TenantId)),
                    Expression.Property(context, nameof(CurrentTenantId)))),
            row);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        ArgumentNullException.ThrowIfNull(configurationBuilder);
        // Enums are stored as their names, so rows stay readable and reordering an enum is safe.
        configurationBuilder.Properties<Enum>().HaveConversion<string>().HaveMaxLength(32);
    }
}
