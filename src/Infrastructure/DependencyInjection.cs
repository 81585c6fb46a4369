using System.Security.Cryptography.X509Certificates;
using Aggregator.Infrastructure.Connections;
using Aggregator.Infrastructure.Jobs;
using Aggregator.Infrastructure.Providers;
using Aggregator.Infrastructure.Secrets;
using Aggregator.Infrastructure.Sync;
using Aggregator.Infrastructure.Notifications;
using Aggregator.Infrastructure.Paging;
using Aggregator.Infrastructure.Patients;
using Aggregator.Infrastructure.Tenants;
using Microsoft.AspNetCore.DataProtection;
using Aggregator.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Aggregator.Infrastructure;

public static class DependencyInjection
{
    public const string ConnectionStringName = "Aggregator";

    /// <summary>
    /// <see cref="AddInfrastructure"/>, but a missing setting is told on standard error in one
    /// line (what to set) instead of a stack trace; false then.
    /// </summary>
    public static bool TryAddInfrastructure(this IHostApplicationBuilder builder, bool migrateOnStartup)
    {
        try
        {
            builder.AddInfrastructure(migrateOnStartup);
            return true;
        }
        catch (MissingConfigurationException ex)
        {
            Console.Error.WriteLine(ex.Message);
            return false;
        }
    }

    /// <summary>
    /// <see cref="AggregatorDbContext"/> for every scope, acting for the scope's <see cref="CurrentTenant"/>. The contexts
    /// are pooled and their options built once: building options and a context per request cost a cached read most of
    /// its time (it needs no database, but its endpoint takes a context). Disposing the scope returns its context.
    /// </summary>
    public static IServiceCollection AddAggregatorDbContext(this IServiceCollection services, Func<IServiceProvider, NpgsqlDataSource> dataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        services.AddPooledDbContextFactory<AggregatorDbContext>((provider, options) =>
            AggregatorDbContext.Configure(options, dataSource(provider)).AddInterceptors(TenantSessionInterceptor.Instance));
        services.AddScoped(provider => provider.GetRequiredService<IDbContextFactory<AggregatorDbContext>>().CreateDbContext()
            .For(provider.GetRequiredService<CurrentTenant>()));
        return services;
    }

    /// <summary>
    /// Statements a connection runs again and again (every read of the record, the tenant's session setting) are prepared
    /// on it once, unless the connection string says otherwise (<c>Max Auto Prepare=0</c>, e.g. behind a pooler that
    /// cannot keep prepared statements). Unprepared, PostgreSQL parsed and planned each: under a load of filtered record
    /// reads, a fifth of the machine's CPU went to planning and parsing.
    /// </summary>
    internal static NpgsqlDataSourceBuilder PreparingStatements(NpgsqlDataSourceBuilder builder)
    {
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = builder.ConnectionString };
        if (!given.Keys.Cast<string>().Any(key => key.Replace(" ", "", StringComparison.Ordinal).Equals("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase)))
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = AutoPreparedStatements;
        }

        return builder;
    }

    /// <summary>How many statements each connection keeps prepared, the most used first: more than the reads use.</summary>
    public const int AutoPreparedStatements = 64;

    /// <summary>PostgreSQL, EF Core, Hangfire storage and the clock. <paramref name="migrateOnStartup"/>: this host owns migrations.</summary>
    public static IHostApplicationBuilder AddInfrastructure(this IHostApplicationBuilder builder, bool migrateOnStartup)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new MissingConfigurationException(
                $"No database configured: set ConnectionStrings__{ConnectionStringName} (or ConnectionStrings:{ConnectionStringName}), or start everything with ./run.sh.");
        }

        if (!new NpgsqlConnectionStringBuilder(connectionString).Enlist)
        {
            // Sync runs and their jobs are saved in one transaction (JobTransaction) only when connections enlist.
            throw new MissingConfigurationException(
                $"ConnectionStrings__{ConnectionStringName} sets Enlist=false: sync runs and their jobs are saved in one ambient transaction, which needs Npgsql's enlistment; remove the setting.");
        }

        var services = builder.Services;
        services.AddSingleton(TimeProvider.System);
        services.AddOptions<DatabaseOptions>().Bind(builder.Configuration.GetSection(DatabaseOptions.Section))
            .Validate(o => o.MaxConcurrentReads >= 1, "Database:MaxConcurrentReads must be at least 1.")
            .Validate(o => o.ReadQueueTimeout >= TimeSpan.Zero && o.ReadQueueTimeout.TotalMilliseconds <= int.MaxValue,
                "Database:ReadQueueTimeout must be a time span from 00:00:00 (never wait) to 24 days.")
            .ValidateOnStart();
        services.AddOptions<JobServerOptions>().Bind(builder.Configuration.GetSection(JobServerOptions.Section));

        // Commands are traced only inside a trace (a request's, a job's): the job server's polling, heartbeats and the
        // audit writer would otherwise each start a trace of their own, all the time.
        services.AddSingleton(_ => PreparingStatements(new NpgsqlDataSourceBuilder(connectionString))
            .ConfigureTracing(tracing => tracing
                .ConfigureCommandFilter(_ => System.Diagnostics.Activity.Current is not null)
                .ConfigureBatchFilter(_ => System.Diagnostics.Activity.Current is not null))
            .Build());
        var ownerConnectionString = builder.Configuration.GetConnectionString(DatabaseRoles.OwnerConnectionStringName);
        services.AddSingleton(provider => new DatabaseRoles(provider.GetRequiredService<NpgsqlDataSource>(), ownerConnectionString));
        services.AddAggregatorDbContext(provider => provider.GetRequiredService<NpgsqlDataSource>());

        services.AddSingleton<DatabaseState>();
        services.AddSingleton<DatabaseMigrator>();
        var migrate = migrateOnStartup
            && builder.Configuration.GetSection(DatabaseOptions.Section).GetValue(nameof(DatabaseOptions.MigrateOnStartup), true);
        if (migrate)
        {
            // Registered before any job server, so hosted services start with the schema in place.
            services.AddHostedService(provider => provider.GetRequiredService<DatabaseMigrator>());
        }

        services.AddScoped<CurrentTenant>();
        var dataProtection = services.AddDataProtection()
            .SetApplicationName("Aggregator")
            .PersistKeysToDbContext<AggregatorDbContext>();
        // The key ring (which decrypts every stored token) is itself encrypted at rest with a certificate when one is given;
        // the certificates listed under UnprotectWith still read keys written under earlier ones (certificate rotation).
        var keyRing = builder.Configuration.GetSection("DataProtection");
        if (string.IsNullOrEmpty(keyRing["CertificatePath"]) && !builder.Environment.IsDevelopment())
        {
            throw new MissingConfigurationException(
                "No certificate protects the Data Protection key ring (which decrypts every stored token): set DataProtection__CertificatePath " +
                "(a PKCS#12 file with its private key) and DataProtection__CertificatePassword; only Development runs without one.");
        }

        if (keyRing["CertificatePath"] is { Length: > 0 } certificatePath)
        {
            dataProtection.ProtectKeysWithCertificate(X509CertificateLoader.LoadPkcs12FromFile(certificatePath, keyRing["CertificatePassword"]));
            var previous = keyRing.GetSection("UnprotectWith").GetChildren()
                .Select(c => X509CertificateLoader.LoadPkcs12FromFile(c["Path"]!, c["Password"])).ToArray();
            if (previous.Length > 0)
            {
                dataProtection.UnprotectKeysWithAnyCertificate(previous);
            }
        }
        services.AddSingleton<CursorCodec>();
        services.AddSingleton<DatabaseNotifications>();
        services.AddHostedService(provider => provider.GetRequiredService<DatabaseNotifications>());
        services.AddSingleton<Observability.OperationalGauges>();
        services.AddHostedService(provider => provider.GetRequiredService<Observability.OperationalGauges>());
        services.AddSingleton<ApiKeyUsage>();
        services.AddHostedService(provider => provider.GetRequiredService<ApiKeyUsage>());
        services.AddOptions<Auditing.AuditOptions>().Bind(builder.Configuration.GetSection(Auditing.AuditOptions.Section));
        services.AddSingleton<Auditing.AuditTrail>();
        services.AddHostedService(provider => provider.GetRequiredService<Auditing.AuditTrail>());
        services.AddSingleton<ApiKeyAuthenticator>();
        services.AddSingleton<PatientSessionTokens>();
        services.AddSingleton<CredentialRevocations>();
        services.AddScoped<TenantAdministration>();
        services.AddScoped<PatientRegistry>();
        services.AddScoped<PatientErasure>();

        services.AddOptions<SandboxDirectoryOptions>().Bind(builder.Configuration.GetSection(SandboxDirectoryOptions.Section));
        services.AddOptions<ConnectOptions>().Bind(builder.Configuration.GetSection(ConnectOptions.Section));
        services.AddOptions<ApiPublicOptions>().Bind(builder.Configuration.GetSection(ApiPublicOptions.Section));
        services.AddMemoryCache();
        services.AddSingleton<SecretProtector>();
        services.AddScoped<IDatabaseSeeder, ProviderDirectorySeeder>();
        services.AddScoped<ProviderDirectory>();
        services.AddScoped<ProviderAdministration>();
        services.AddScoped<BrandsBundleImporter>();
        services.AddScoped<ClientRegistrations>();
        services.AddSingleton<SmartDiscovery>();
        services.AddSingleton<ProviderTokenClient>();
        services.AddScoped<ScopeDatabaseTurns>();
        services.AddScoped<ConnectionTokens>();
        services.AddScoped<ConnectFlow>();
        services.AddScoped<ConnectionRevocation>();
        services.AddScoped<ConnectionBinding>();
        services.AddScoped<LinkSessions>();
        services.AddScoped<LinkSessionSweep>();
        services.AddSingleton<LinkSessionCredentials>();
        services.AddScoped<ConnectionConfirmationSweep>();
        services.AddScoped<RefreshExpiryNotices>();
        services.AddOptions<Events.EventOptions>().Bind(builder.Configuration.GetSection(Events.EventOptions.Section));
        services.AddScoped<Events.PatientEventLog>();
        services.AddScoped<Events.EventStreamTickets>();
        services.AddScoped<Events.EventRetentionSweep>();
        services.AddSingleton<Events.PatientEventSignals>();
        services.AddScoped<SyncScheduler>();
        services.AddOptions<SyncOptions>().Bind(builder.Configuration.GetSection(SyncOptions.Section));
        services.AddScoped<ProviderFhirClient>();
        services.AddSingleton<SyncPlanCatalog>();
        services.AddSingleton<CapabilityProbe>();
        services.AddScoped<SyncEngine>();
        services.AddScoped<IRecordRebuilder, Records.RecordBuilder>();
        services.AddOptions<Records.RecordCacheOptions>().Bind(builder.Configuration.GetSection(Records.RecordCacheOptions.Section));
        services.AddSingleton<Records.RecordPageCache>();
        services.AddSingleton<Records.RecordReadSlots>();
        services.AddScoped<SyncDispatcher>();
        services.AddScoped<StrandedRunSweep>();
        services.AddOptions<Webhooks.WebhookOptions>().Bind(builder.Configuration.GetSection(Webhooks.WebhookOptions.Section));
        services.AddScoped<Webhooks.WebhookOutbox>();
        services.AddScoped<Webhooks.WebhookSender>();
        services.AddScoped<Webhooks.WebhookSweep>();
#pragma warning disable EXTEXP0001 // The supported way to opt one client out of the default resilience handler.
        // Webhook deliveries are retried by their own schedule (minutes to hours), not by a handler in the request.
        // Redirects are not followed (a 3xx is a failed attempt), and only public addresses are dialled.
        services.AddHttpClient(Webhooks.WebhookSender.HttpClientName, client => client.DefaultRequestHeaders.UserAgent.ParseAdd("Aggregator-Webhooks/1.0"))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false, ConnectCallback = Webhooks.WebhookAddressPolicy.ConnectAsync, ActivityHeadersPropagator = Providers.ProviderHttpClients.NoTraceHeaders,
            })
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        services.AddTransient<SyncConnectionJob>();
        services.AddProviderHttpClients();

        services.AddJobStorage();
        return builder;
    }
}

/// <summary>A setting the process cannot start without; its message says how to provide it.</summary>
public sealed class MissingConfigurationException(string message) : Exception(message);
