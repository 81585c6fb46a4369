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
    internal static IServiceCollection AddJobStorage(this IServiceCollection services, string connectionString)
    {
        services.AddHangfire((provider, config) =>
        {
            var database = provider.GetRequiredService<IOptions<DatabaseOptions>>().Value;
            config.SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings()
                .UseFilter(new JobLogContextFilter())
                .UsePostgreSqlStorage(
                    bootstrap => bootstrap.UseNpgsqlConnection(connectionString),
                    new PostgreSqlStorageOptions
                    {
                        SchemaName = database.HangfireSchema,
                        // The schema is installed by the one migration owner (DatabaseMigrator), never by Workers.
                        PrepareSchemaIfNecessary = false,
                        // A long sync keeps its job invisible to other servers for as long as it runs.
                        UseSlidingInvisibilityTimeout = true,
                        InvisibilityTimeout = TimeSpan.FromMinutes(5),
                        QueuePollInterval = provider.GetRequiredService<IOptions<JobServerOptions>>().Value.PollInterval,
                    });
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
