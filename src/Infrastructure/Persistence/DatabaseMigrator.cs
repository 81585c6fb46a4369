using Hangfire.PostgreSql;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Aggregator.Infrastructure.Persistence;

/// <summary>
/// Applies our EF Core migrations and Hangfire's schema. One owner does this (the Api, or a
/// migration job); Workers never do. A database that is not there yet does not stop the host:
/// readiness stays 503 and the migration is retried until it succeeds.
/// </summary>
public sealed partial class DatabaseMigrator(
    IServiceScopeFactory scopes,
    NpgsqlDataSource dataSource,
    DatabaseState state,
    IOptions<DatabaseOptions> options,
    TimeProvider clock,
    ILogger<DatabaseMigrator> logger) : IHostedService, IDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(5);
    private readonly CancellationTokenSource _stopping = new();
    private Task? _retries;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (await TryMigrateAsync(cancellationToken))
        {
            return;
        }

        _retries = RetryUntilMigratedAsync(_stopping.Token);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_retries is not null)
        {
            await _retries.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public void Dispose() => _stopping.Dispose();

    /// <summary>Migrates now; used by the start-up path and by the <c>migrate</c> command.</summary>
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AggregatorDbContext>();
            // Create a missing database first: asking for its migrations would log a connection error.
            var creator = db.GetService<IRelationalDatabaseCreator>();
            if (!await creator.ExistsAsync(cancellationToken))
            {
                await creator.CreateAsync(cancellationToken);
            }

            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count > 0)
            {
                LogApplying(logger, pending.Count);
                await db.Database.MigrateAsync(cancellationToken);
            }
        }

        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            // Hangfire's own installer takes an advisory lock, so concurrent starts are safe.
            PostgreSqlObjectsInstaller.Install(connection, options.Value.HangfireSchema);
        }

        state.MarkMigrated();
        LogMigrated(logger);
    }

    private async Task<bool> TryMigrateAsync(CancellationToken cancellationToken)
    {
        try
        {
            await MigrateAsync(cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            LogNotYet(logger, ex.GetType().Name, ex.Message);
            return false;
        }
    }

    private async Task RetryUntilMigratedAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(RetryDelay, clock, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (await TryMigrateAsync(stopping))
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applying {Count} pending database migrations")]
    private static partial void LogApplying(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Database schema is up to date")]
    private static partial void LogMigrated(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database not migrated yet ({ErrorType}: {Reason}); retrying")]
    private static partial void LogNotYet(ILogger logger, string errorType, string reason);
}
