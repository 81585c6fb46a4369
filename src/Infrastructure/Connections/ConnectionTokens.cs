using Aggregator.Domain.Connections;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Providers;
using Aggregator.Infrastructure.Secrets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Aggregator.Infrastructure.Connections;

/// <summary>The grant is gone at the provider (invalid_grant): only the patient can fix it, by reconnecting.</summary>
public sealed class ReauthorizationRequiredException(string message) : Exception(message);

/// <summary>
/// Hands out a usable access token for a connection, refreshing it ahead of expiry. A refresh runs
/// under a per-connection PostgreSQL advisory lock, and the rotated refresh token is committed
/// before the new access token is used, so two workers never spend one refresh token twice.
/// </summary>
public sealed partial class ConnectionTokens(
    AggregatorDbContext db,
    ScopeDatabaseTurns turns,
    ClientRegistrations clients,
    SmartDiscovery discovery,
    ProviderTokenClient tokens,
    SecretProtector secrets,
    Webhooks.WebhookOutbox webhooks,
    Events.PatientEventLog events,
    Observability.AggregatorMetrics metrics,
    TimeProvider clock,
    ILogger<ConnectionTokens> logger)
{
    /// <summary>
    /// Refresh when the access token has less than this left; a token that lives under two minutes is refreshed when half
    /// its life is left instead, not before every request (<see cref="TokenSet.RefreshAhead"/>).
    /// </summary>
    public static readonly TimeSpan RefreshAhead = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The token set this scope last read or refreshed, per connection. A sync asks for a token before each of its
    /// requests; reading and decrypting it from the database each time cost a round trip per request. An access token
    /// that another process has since replaced still works until it expires, and a 401 refreshes under the lock, as before.
    /// A sync's concurrent searches ask at once: the set is shared, and the database is read (or the token refreshed) in
    /// the scope's turn (<see cref="ScopeDatabaseTurns"/>).
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, TokenSet> _known = [];

    public async Task<string> GetAccessTokenAsync(Guid connectionId, CancellationToken cancellationToken)
    {
        if (!_known.TryGetValue(connectionId, out var set))
        {
            using (await turns.TakeAsync(cancellationToken))
            {
                // Another search may have read (or refreshed) it while this one waited.
                if (!_known.TryGetValue(connectionId, out set))
                {
                    set = Read(await db.Connections.AsNoTracking().SingleAsync(c => c.Id == connectionId, cancellationToken));
                    _known[connectionId] = set;
                }
            }
        }

        if (!set.DueForRefresh(clock.GetUtcNow(), RefreshAhead))
        {
            return set.AccessToken;
        }

        return (await RefreshAsync(connectionId, staleAccessToken: null, cancellationToken)).AccessToken;
    }

    /// <summary>
    /// Refreshes unless another worker already did: under the lock, a token set that no longer holds
    /// <paramref name="staleAccessToken"/> (or is no longer expiring) is fresh enough.
    /// </summary>
    public async Task<TokenSet> RefreshAsync(Guid connectionId, string? staleAccessToken, CancellationToken cancellationToken)
    {
        using (await turns.TakeAsync(cancellationToken))
        {
            _known.TryRemove(connectionId, out _);
            // Two searches that met the same expired token: the second finds it replaced under the lock and refreshes nothing.
            var set = await RefreshLockedAsync(connectionId, staleAccessToken, cancellationToken);
            _known[connectionId] = set;
            return set;
        }
    }

    private async Task<TokenSet> RefreshLockedAsync(Guid connectionId, string? staleAccessToken, CancellationToken cancellationToken)
    {
        var strategy = db.Database.CreateExecutionStrategy();
        return await strategy.ExecuteAsync(async () =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_advisory_xact_lock(hashtextextended({"token-refresh:" + connectionId}, 0))", cancellationToken);
            var connection = await db.Connections.SingleAsync(c => c.Id == connectionId, cancellationToken);
            await db.Entry(connection).ReloadAsync(cancellationToken);
            var current = Read(connection);
            var stillStale = staleAccessToken is not null
                ? current.AccessToken == staleAccessToken
                : current.DueForRefresh(clock.GetUtcNow(), RefreshAhead);
            if (!stillStale)
            {
                await transaction.CommitAsync(cancellationToken);
                metrics.TokenRefresh("already_refreshed");
                return current;
            }

            if (current.RefreshToken is null)
            {
                await MarkReauthRequiredAsync(connection, "The access token expired and the provider gave no refresh token.", transaction, cancellationToken);
                metrics.TokenRefresh("reauth_required");
                throw new ReauthorizationRequiredException("No refresh token.");
            }

            var provider = await db.Providers.AsNoTracking().SingleAsync(p => p.Id == connection.ProviderId, cancellationToken);
            var client = await clients.ResolveAsync(provider.Id, connection.TenantId, cancellationToken)
                ?? throw new InvalidOperationException("No OAuth client is registered for the connection's provider.");
            var server = await discovery.DiscoverAsync(provider, cancellationToken);
            var response = await tokens.RefreshAsync(server, client, current.RefreshToken, cancellationToken);
            if (response.IsError)
            {
                if (response.Error is "invalid_grant" or "invalid_client" or "unauthorized_client")
                {
                    LogGrantGone(logger, connectionId, response.Error);
                    await MarkReauthRequiredAsync(connection, "The provider no longer accepts this connection's grant; the patient must reconnect.", transaction, cancellationToken);
                    metrics.TokenRefresh("reauth_required");
                    throw new ReauthorizationRequiredException(response.Error);
                }

                // Network errors and 5xx are passing: the next run tries again with the same refresh token.
                metrics.TokenRefresh("failed");
                throw new HttpRequestException($"Token refresh failed: {response.Error ?? response.HttpStatusCode.ToString()}");
            }

            var now = clock.GetUtcNow();
            var refreshed = new TokenSet(
                response.AccessToken!,
                response.RefreshToken ?? current.RefreshToken,
                response.TokenType ?? current.TokenType,
                response.ExpiresIn > 0 ? now.AddSeconds(response.ExpiresIn) : null,
                response.IdentityToken ?? current.IdToken,
                now);
            connection.TokenSetProtected = refreshed.Protect(secrets);
            connection.AccessTokenExpiresAt = refreshed.ExpiresAt;
            if (response.RefreshToken is { } rotated && rotated != current.RefreshToken)
            {
                // A rotated refresh token may live longer than the one it replaced.
                connection.RefreshTokenExpiresAt = await tokens.RefreshTokenExpiryAsync(server, client, rotated, cancellationToken);
            }

            connection.GrantedScopes = response.Scope ?? connection.GrantedScopes;
            connection.UpdatedAt = now;
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            LogRefreshed(logger, connectionId);
            metrics.TokenRefresh("refreshed");
            return refreshed;
        });
    }

    private TokenSet Read(Connection connection) =>
        connection.TokenSetProtected is { } stored
            ? TokenSet.Unprotect(secrets, stored)
            : throw new ReauthorizationRequiredException("The connection holds no tokens.");

    private async Task MarkReauthRequiredAsync(Connection connection, string reason, Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction transaction, CancellationToken cancellationToken)
    {
        if (connection.Status is not (ConnectionStatus.Active or ConnectionStatus.PendingConfirmation))
        {
            // Disconnected meanwhile (its grant revoked by us): it stays as it is; there is nothing to ask the patient.
            return;
        }

        connection.Status = ConnectionStatus.ReauthRequired;
        connection.LastError = reason;
        connection.UpdatedAt = clock.GetUtcNow();
        // A quarantined (unconfirmed) connection is nobody's yet: its tenant hears nothing of it.
        if (connection.ConfirmedAt is not null)
        {
            var externalId = await db.Patients.IgnoreQueryFilters().Where(p => p.Id == connection.PatientId).Select(p => p.ExternalId).SingleAsync(cancellationToken);
            await webhooks.AddAsync(connection.TenantId, Webhooks.WebhookEventTypes.ConnectionReauthRequired, new
            {
                patientId = connection.PatientId,
                externalId,
                connectionId = connection.Id,
                providerId = connection.ProviderId,
                reason,
            }, cancellationToken);
        }

        await db.SaveChangesAsync(cancellationToken);
        await events.ConnectionUpdatedAsync(connection, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        webhooks.Dispatch();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Refreshed the access token of connection {ConnectionId}")]
    private static partial void LogRefreshed(ILogger logger, Guid connectionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connection {ConnectionId} needs re-authorisation: refresh answered {Error}")]
    private static partial void LogGrantGone(ILogger logger, Guid connectionId, string error);
}
