using System.Collections.Concurrent;
using Aggregator.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aggregator.Infrastructure.Tenants;

/// <summary>
/// Keeps <c>api_keys.last_used_at</c> current off the request path: uses are noted in memory and
/// written in one statement every few seconds.
/// </summary>
public sealed partial class ApiKeyUsage(IServiceScopeFactory scopes, TimeProvider clock, ILogger<ApiKeyUsage> logger) : BackgroundService
{
    private static readonly TimeSpan FlushEvery = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _pending = new();

    public void Record(Guid keyId, DateTimeOffset usedAt) => _pending[keyId] = usedAt;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(FlushEvery, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping: one last write below.
        }

        await FlushAsync(CancellationToken.None);
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_pending.IsEmpty)
        {
            return;
        }

        var batch = new List<(Guid Id, DateTimeOffset UsedAt)>();
        foreach (var id in _pending.Keys)
        {
            if (_pending.TryRemove(id, out var usedAt))
            {
                batch.Add((id, usedAt));
            }
        }

        try
        {
            await using var scope = scopes.CreateAsyncScope();
            using var system = scope.ServiceProvider.GetRequiredService<CurrentTenant>().ActAsSystem(); // keys of every tenant
            var db = scope.ServiceProvider.GetRequiredService<AggregatorDbContext>();
            foreach (var (id, usedAt) in batch)
            {
                await db.ApiKeys.IgnoreQueryFilters()
                    .Where(k => k.Id == id && (k.LastUsedAt == null || k.LastUsedAt < usedAt))
                    .ExecuteUpdateAsync(set => set.SetProperty(k => k.LastUsedAt, usedAt), cancellationToken);
            }
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or DbUpdateException or TimeoutException)
        {
            LogFlushFailed(logger, batch.Count, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record last use of {Count} API keys: {Reason}")]
    private static partial void LogFlushFailed(ILogger logger, int count, string reason);
}
