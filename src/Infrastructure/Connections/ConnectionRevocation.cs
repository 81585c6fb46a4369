using Aggregator.Domain.Connections;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Providers;
using Aggregator.Infrastructure.Secrets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

using Aggregator.Infrastructure.Notifications;

namespace Aggregator.Infrastructure.Connections;

/// <param name="SyncStillWriting">A purge found a sync of the connection still writing past <c>Connect:SyncStopTimeout</c>: the
/// connection is revoked, nothing was deleted, and the purge may be asked for again.</param>
public sealed record DisconnectResult(bool Found, bool RevokedAtProvider, int PurgedResources, bool SyncStillWriting = false);

/// <summary>
/// Ends a connection: revokes its grant at the provider when the provider has a revocation
/// endpoint, destroys our copy of the tokens, and with purge deletes the data fetched through it.
/// </summary>
public sealed partial class ConnectionRevocation(
    AggregatorDbContext db,
    ClientRegistrations clients,
    SmartDiscovery discovery,
    ProviderTokenClient tokens,
    SecretProtector secrets,
    Events.PatientEventLog events,
    IEnumerable<Sync.IRecordRebuilder> rebuilders,
    NpgsqlDataSource dataSource,
    DatabaseNotifications notifications,
    IOptions<ConnectOptions> options,
    TimeProvider clock,
    ILogger<ConnectionRevocation> logger)
{
    public async Task<DisconnectResult> DisconnectAsync(Guid connectionId, bool purge, CancellationToken cancellationToken)
    {
        var connection = await db.Connections.SingleOrDefaultAsync(c => c.Id == connectionId, cancellationToken);
        if (connection is null)
        {
            return new DisconnectResult(false, false, 0);
        }

        var revoked = await EndAsync(connection, cancellationToken);
        if (!purge)
        {
            LogDisconnected(logger, connectionId, revoked, 0);
            return new DisconnectResult(true, revoked, 0);
        }

        // A sync still running stops at its next batch (the connection is revoked); its lock says when it has.
        await using var session = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            if (!await Sync.SyncLocks.LockConnectionAsync(session, connectionId, options.Value.SyncStopTimeout, clock, cancellationToken))
            {
                return new DisconnectResult(true, revoked, 0, SyncStillWriting: true);
            }

            var purged = await db.SourceResources.Where(r => r.ConnectionId == connectionId).ExecuteDeleteAsync(cancellationToken);
            await db.Coverage.Where(c => c.ConnectionId == connectionId).ExecuteDeleteAsync(cancellationToken);
            // A revoked connection is the patient's source only while something fetched through it is kept: the summary
            // drops it now, on every replica, even where the record itself comes out the same.
            await notifications.PublishAsync(NotificationChannels.RecordChanged, Records.RecordPageCache.SourcesNotice(connection.PatientId), cancellationToken);
            notifications.Announce(NotificationChannels.RecordChanged, Records.RecordPageCache.SourcesNotice(connection.PatientId));
            // What only this connection stated leaves the record now; the new version reaches every cache (NOTIFY), the
            // event stream and webhooks (record.updated).
            foreach (var rebuilder in rebuilders)
            {
                await rebuilder.RebuildAsync(connection.PatientId, cancellationToken);
            }

            LogDisconnected(logger, connectionId, revoked, purged);
            return new DisconnectResult(true, revoked, purged);
        }
        finally
        {
            await Sync.SyncLocks.ReleaseAllAsync(session);
        }
    }

    /// <summary>
    /// Revokes a connection for good: marked revoked first (so that a running sync stops at its next batch and no
    /// schedule picks it up), then its grant is revoked at the provider and our copy of its tokens destroyed.
    /// </summary>
    /// <returns>Whether the provider confirmed the revocation.</returns>
    public async Task<bool> EndAsync(Connection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        // Under the token-refresh lock, on the row as it is now: a refresh in flight either finished (and we revoke the
        // token it stored) or has not begun (and finds no token). Our copy goes in the same write as the status, so a
        // sync that meets the revoked grant finds nothing to refresh.
        var strategy = db.Database.CreateExecutionStrategy();
        var stored = await strategy.ExecuteAsync(async () =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_advisory_xact_lock(hashtextextended({"token-refresh:" + connection.Id}, 0))", cancellationToken);
            await db.Entry(connection).ReloadAsync(cancellationToken);
            var held = connection.TokenSetProtected;
            connection.Status = ConnectionStatus.Revoked;
            connection.NextSyncAt = null;
            connection.TokenSetProtected = null;
            connection.AccessTokenExpiresAt = null;
            connection.RefreshTokenExpiresAt = null;
            connection.UpdatedAt = clock.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
            await db.AuthRequests.Where(a => a.ConnectionId == connection.Id).ExecuteDeleteAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return held;
        });

        // Announced to every replica by the database (a trigger on connections); this one stops serving the old state at once.
        notifications.Announce(NotificationChannels.RecordChanged, Records.RecordPageCache.SourcesNotice(connection.PatientId));
        var revoked = stored is not null && await RevokeAtProviderAsync(connection, TokenSet.Unprotect(secrets, stored), cancellationToken);
        await events.ConnectionUpdatedAsync(connection, cancellationToken);
        return revoked;
    }

    /// <summary>
    /// Deletes a connection that never became the patient's (an unconfirmed binding, an abandoned attempt):
    /// its grant is revoked at the provider, then the row goes with everything fetched through it.
    /// </summary>
    /// <param name="stillDue">Checked on the connection as it is now: a removal decided a moment ago may no longer apply.</param>
    public async Task<bool> RemoveAsync(Guid connectionId, Func<Connection, bool> stillDue, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stillDue);
        var connection = await db.Connections.SingleOrDefaultAsync(c => c.Id == connectionId, cancellationToken);
        if (connection is null || !stillDue(connection))
        {
            return false;
        }

        var revoked = connection.TokenSetProtected is { } stored && await RevokeAtProviderAsync(connection, TokenSet.Unprotect(secrets, stored), cancellationToken);
        // Cascades to its auth requests, stored resources, sync runs and coverage.
        await db.Connections.Where(c => c.Id == connectionId).ExecuteDeleteAsync(cancellationToken);
        LogRemoved(logger, connectionId, revoked);
        return true;
    }

    private async Task<bool> RevokeAtProviderAsync(Connection connection, TokenSet set, CancellationToken cancellationToken)
    {
        try
        {
            var provider = await db.Providers.AsNoTracking().SingleAsync(p => p.Id == connection.ProviderId, cancellationToken);
            var client = await clients.ResolveAsync(provider.Id, connection.TenantId, cancellationToken);
            var server = await discovery.DiscoverAsync(provider, cancellationToken);
            if (client is null || server.RevocationEndpoint is null)
            {
                return false;
            }

            // The refresh token first: revoking it ends the whole grant at most servers.
            var ok = true;
            if (set.RefreshToken is { } refresh)
            {
                ok &= !(await tokens.RevokeAsync(server, client, refresh, "refresh_token", cancellationToken)).IsError;
            }

            ok &= !(await tokens.RevokeAsync(server, client, set.AccessToken, "access_token", cancellationToken)).IsError;
            return ok;
        }
        catch (Exception ex) when (ex is HttpRequestException or ProviderUnreachableException or ProviderDiscoveryException)
        {
            // Our copy is destroyed either way; the provider's grant then lapses by itself.
            LogRevocationFailed(logger, connection.Id, ex.GetType().Name);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection {ConnectionId} disconnected (revoked at provider: {Revoked}, resources purged: {Purged})")]
    private static partial void LogDisconnected(ILogger logger, Guid connectionId, bool revoked, int purged);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection {ConnectionId} removed (revoked at provider: {Revoked})")]
    private static partial void LogRemoved(ILogger logger, Guid connectionId, bool revoked);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not revoke the grant of connection {ConnectionId} at the provider ({Reason})")]
    private static partial void LogRevocationFailed(ILogger logger, Guid connectionId, string reason);
}
