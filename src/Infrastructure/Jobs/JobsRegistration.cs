using Aggregator.Infrastructure.Housekeeping;
using Aggregator.Infrastructure.Persistence;
using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Aggregator.Infrastructure.Jobs;

public static class JobsRegistration
{
    /// <summary>Hangfire's storage on our PostgreSQL: every host needs it to enqueue or to run jobs.</summary>
    internal static IServiceCollection AddJobStorage(this IServiceCollection services)
    {
        // Our own storage instance in DI: Hangfire's global JobStorage.Current is one per process,
        // and several hosts in one process (tests, tools) must not see each other's jobs.
        services.AddSingleton<JobStorage>(provider =>
        {
            var database = provider.GetRequiredService<IOptions<DatabaseOptions>>().Value;
            var jobs = provider.GetRequiredService<IOptions<JobServerOptions>>().Value;
            var options = new PostgreSqlStorageOptions
            {
                SchemaName = database.HangfireSchema,
                // The schema is installed by the one migration owner (DatabaseMigrator), never by Workers.
                PrepareSchemaIfNecessary = false,
                // A long sync keeps its job invisible to other servers for as long as its server lives (the storage's
                // heartbeat moves the fetch time forward); a killed server's job is fetched again once the timeout passes.
                // That needs no server timeout: the queue row itself comes back, whatever the dead server's listing says.
                UseSlidingInvisibilityTimeout = true,
                InvisibilityTimeout = jobs.InvisibilityTimeout,
                QueuePollInterval = jobs.PollInterval,
                // Jobs queued inside a JobTransaction join it (the default today; relied on, so said).
                EnableTransactionScopeEnlistment = true,
            };
            // Our data source, not a pool of Hangfire's own: a job queued in a JobTransaction shares the rows' connection.
            return new PostgreSqlStorage(new DataSourceConnectionFactory(provider.GetRequiredService<Npgsql.NpgsqlDataSource>()), options);
        });
        // Likewise the activator: Hangfire's default hands every host the process-wide JobActivator.Current,
        // which is the last-configured host's; jobs would then be built from another host's services.
        services.AddSingleton<JobActivator>(provider => new Hangfire.AspNetCore.AspNetCoreJobActivator(provider.GetRequiredService<IServiceScopeFactory>()));
        services.AddHangfire((provider, config) =>
        {
            config.SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings()
                .UseStorage(provider.GetRequiredService<JobStorage>());
            ProcessJobFilters.AddOnce<JobLogContextFilter>();
        });
        services.AddTransient<ExpiredAuthRequestSweep>();
        return services;
    }

    /// <summary>Runs a Hangfire server in this process (the Worker, or the Api with <c>Worker:InProcess</c>).</summary>
    public static IHostApplicationBuilder AddJobServer(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Configuration.GetSection(JobServerOptions.Section).Get<JobServerOptions>() ?? new JobServerOptions();
        builder.Services.AddHangfireServer(server =>
        {
            server.WorkerCount = options.WorkerCount;
            server.Queues = JobQueues.All;
            server.SchedulePollingInterval = options.PollInterval;
            server.ServerName = $"{Environment.MachineName}:{builder.Environment.ApplicationName}:{Environment.ProcessId}";
        });
        builder.Services.AddHostedService<RecurringJobRegistrar>();
        return builder;
    }
}
