using Aggregator.Domain.Connections;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Providers;
using Aggregator.Infrastructure.Secrets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Aggregator.Infrastructure.Connections;

public sealed record DisconnectResult(bool Found, bool RevokedAtProvider, int PurgedResources);

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

        var revoked = connection.TokenSetProtected is { } stored && await RevokeAtProviderAsync(connection, TokenSet.Unprotect(secrets, stored), cancellationToken);
        connection.TokenSetProtected = null;
        connection.AccessTokenExpiresAt = null;
        connection.RefreshTokenExpiresAt = null;
        connection.Status = ConnectionStatus.Revoked;
        connection.NextSyncAt = null;
        connection.UpdatedAt = clock.GetUtcNow();
        await db.AuthRequests.Where(a => a.ConnectionId == connectionId).ExecuteDeleteAsync(cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await events.ConnectionUpdatedAsync(connection, cancellationToken);

        var purged = purge
            ? await db.SourceResources.Where(r => r.ConnectionId == connectionId).ExecuteDeleteAsync(cancellationToken)
            : 0;
        if (purged > 0)
        {
            // What only this connection stated leaves the record now (and every cache and stream hears of the new version).
            foreach (var rebuilder in rebuilders)
            {
                await rebuilder.RebuildAsync(connection.PatientId, cancellationToken);
            }
        }
        LogDisconnected(logger, connectionId, revoked, purged);
        return new DisconnectResult(true, revoked, purged);
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
