using System.Security.Cryptography;
using System.Text;
using Aggregator.Domain.Connections;
using Aggregator.Infrastructure.Events;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Sync;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using Aggregator.Infrastructure.Notifications;

namespace Aggregator.Infrastructure.Connections;

public enum ConfirmOutcome
{
    Confirmed,
    NotFound,

    /// <summary>Wrong, already redeemed, or past the confirmation window.</summary>
    InvalidCode,
}

public sealed record ConfirmResult(ConfirmOutcome Outcome, Guid ConnectionId, ConnectionStatus? Status, Guid? PatientId = null);

/// <summary>
/// Binds a connection to its patient for good when the tenant's backend redeems the single-use result code
/// of the provider's callback: the quarantine ends (its data joins the record at once) and the connection
/// turns active. The code is hashed at rest, compared in constant time, and spent on first use.
/// </summary>
public sealed partial class ConnectionBinding(
    AggregatorDbContext db,
    PatientEventLog events,
    IEnumerable<IRecordRebuilder> rebuilders,
    DatabaseNotifications notifications,
    IOptions<ConnectOptions> options,
    TimeProvider clock,
    ILogger<ConnectionBinding> logger)
{
    public const string ResultCodePrefix = "aggr_";

    public static string NewResultCode() => ResultCodePrefix + WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    public static byte[] Hash(string resultCode) => SHA256.HashData(Encoding.UTF8.GetBytes(resultCode));

    /// <summary>Redeems <paramref name="resultCode"/> for <paramref name="connectionId"/> (of the scope's tenant).</summary>
    public async Task<ConfirmResult> ConfirmAsync(Guid connectionId, string resultCode, CancellationToken cancellationToken)
    {
        var connection = await db.Connections.SingleOrDefaultAsync(c => c.Id == connectionId, cancellationToken);
        if (connection is null)
        {
            return new ConfirmResult(ConfirmOutcome.NotFound, connectionId, null);
        }

        if (!Matches(connection, resultCode))
        {
            LogRefused(logger, connectionId);
            return new ConfirmResult(ConfirmOutcome.InvalidCode, connectionId, connection.Status);
        }

        return await ConfirmBindingAsync(connection, cancellationToken)
            ? new ConfirmResult(ConfirmOutcome.Confirmed, connection.Id, connection.Status, connection.PatientId)
            : new ConfirmResult(ConfirmOutcome.InvalidCode, connectionId, connection.Status);
    }

    /// <summary>
    /// Ends the quarantine of a connection whose code the caller has checked: spends the code, marks the
    /// binding confirmed, and rebuilds the record so what was synced meanwhile shows. False when another
    /// request spent the code first.
    /// </summary>
    public async Task<bool> ConfirmBindingAsync(Connection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var firstBinding = connection.ConfirmedAt is null;
        var now = clock.GetUtcNow();
        connection.ResultCodeHash = null;
        connection.ConfirmedAt ??= now;
        if (connection.Status == ConnectionStatus.PendingConfirmation)
        {
            connection.Status = ConnectionStatus.Active;
        }

        connection.UpdatedAt = now;
        try
        {
            // xmin: of two requests redeeming one code, only the first saves.
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return false;
        }

        // The database announced the change to every replica (a trigger on connections); this one stops serving the
        // summary that lacked the source at once.
        notifications.Announce(NotificationChannels.RecordChanged, Records.RecordPageCache.SourcesNotice(connection.PatientId));

        if (firstBinding)
        {
            await events.ConnectionUpdatedAsync(connection, cancellationToken);
            foreach (var rebuilder in rebuilders)
            {
                await rebuilder.RebuildAsync(connection.PatientId, cancellationToken);
            }

            LogConfirmed(logger, connection.Id);
        }

        return true;
    }

    /// <summary>Whether <paramref name="resultCode"/> is the connection's unspent code, within the confirmation window.</summary>
    public bool Matches(Connection connection, string? resultCode)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return resultCode is { Length: > 0 and <= 200 }
            && connection.ResultCodeHash is { } stored
            && connection.ResultCodeIssuedAt is { } issued
            && clock.GetUtcNow() - issued <= options.Value.ConfirmationWindow
            && CryptographicOperations.FixedTimeEquals(stored, Hash(resultCode));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection {ConnectionId} confirmed by its tenant")]
    private static partial void LogConfirmed(ILogger logger, Guid connectionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A result code for connection {ConnectionId} was refused (wrong, spent or expired)")]
    private static partial void LogRefused(ILogger logger, Guid connectionId);
}
