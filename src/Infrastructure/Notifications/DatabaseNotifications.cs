using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Aggregator.Infrastructure.Notifications;

/// <summary>
/// One LISTEN connection per process: hands each NOTIFY to the handlers of its channel. Each time it
/// starts listening (the first time too: a handler may have kept something before then) it tells every
/// handler <see cref="NotificationChannels.Everything"/>, since whatever was announced meanwhile is unknown.
/// </summary>
public sealed partial class DatabaseNotifications(NpgsqlDataSource dataSource, ILogger<DatabaseNotifications> logger) : BackgroundService
{
    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(2);
    private readonly ConcurrentDictionary<string, ConcurrentBag<Action<string>>> _handlers = new(StringComparer.Ordinal);

    public void Subscribe(string channel, Action<string> handler)
    {
        if (!NotificationChannels.All.Contains(channel))
        {
            throw new ArgumentException($"Unknown notification channel '{channel}'.", nameof(channel));
        }

        _handlers.GetOrAdd(channel, _ => []).Add(handler);
    }

    /// <summary>
    /// Tells this process's handlers at once of a notice this process sent inside its own transaction (after the commit):
    /// the process that made a change must not wait for the round trip to stop serving what it replaced. The listener
    /// hears the notice again, so handlers take a notice twice without harm.
    /// </summary>
    public void Announce(string channel, string payload) => Dispatch(channel, payload);

    /// <summary>
    /// Sends a notice with the transaction open on <paramref name="database"/>: it leaves at the commit, or never (a
    /// replica then cannot miss a change that was written, nor hear of one that was rolled back). Follow the commit
    /// with <see cref="Announce"/> for this process.
    /// </summary>
    public static Task SendWithTransactionAsync(DatabaseFacade database, string channel, string payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        return database.ExecuteSqlInterpolatedAsync($"SELECT pg_notify({channel}, {payload})", cancellationToken);
    }

    public async Task PublishAsync(string channel, string payload, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT pg_notify($1, $2)");
        command.Parameters.AddWithValue(channel);
        command.Parameters.AddWithValue(payload);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) => Dispatch(e.Channel, e.Payload);
                foreach (var channel in NotificationChannels.All)
                {
                    await using var listen = new NpgsqlCommand($"LISTEN {channel}", connection);
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                foreach (var channel in NotificationChannels.All)
                {
                    Dispatch(channel, NotificationChannels.Everything);
                }

                failures = 0;
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                if (failures++ == 0)
                {
                    LogLost(logger, ex.Message);
                }

                try
                {
                    await Task.Delay(ReconnectDelay, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void Dispatch(string channel, string payload)
    {
        if (!_handlers.TryGetValue(channel, out var handlers))
        {
            return;
        }

        foreach (var handler in handlers)
        {
            try
            {
                handler(payload);
            }
#pragma warning disable CA1031 // One faulty handler must not stop the others or the listener.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogHandlerFailed(logger, ex, channel);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the database notification listener ({Reason}); reconnecting")]
    private static partial void LogLost(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "A handler of notification channel {Channel} failed")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string channel);
}
