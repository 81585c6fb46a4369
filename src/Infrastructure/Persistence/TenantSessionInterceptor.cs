using System.Data.Common;
using Aggregator.Infrastructure.Tenants;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Aggregator.Infrastructure.Persistence;

/// <summary>
/// Keeps EF's connection session in step with the scope's <see cref="CurrentTenant"/>: set when EF opens the
/// connection, and set again before a command whenever the scope's tenant or system mode changed since (a scope
/// acts as system for a lookup, then for the tenant it found, possibly on one open connection).
/// </summary>
internal sealed class TenantSessionInterceptor(CurrentTenant tenant) : DbConnectionInterceptor, IDbCommandInterceptor
{
    private DbConnection? _connection;
    private TenantSession.SessionValue _applied;

    private TenantSession.SessionValue Wanted => TenantSession.Value(tenant.TenantId, tenant.IsSystem);

    /// <summary>
    /// Npgsql returns a connection enlisted in an ambient transaction to the pool unreset when the transaction ends:
    /// its session must then say nothing past that transaction (the next user of the connection would inherit it).
    /// </summary>
    private static bool InAmbientTransaction => System.Transactions.Transaction.Current is not null;

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Sync(connection, force: true);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default) =>
        SyncAsync(connection, force: true, cancellationToken);

    public override void ConnectionClosed(DbConnection connection, ConnectionEndEventData eventData) => _connection = null;

    public override Task ConnectionClosedAsync(DbConnection connection, ConnectionEndEventData eventData)
    {
        _connection = null;
        return Task.CompletedTask;
    }

    public InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        Sync(command?.Connection, force: false);
        return result;
    }

    public InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result)
    {
        Sync(command?.Connection, force: false);
        return result;
    }

    public InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
    {
        Sync(command?.Connection, force: false);
        return result;
    }

    public async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        await SyncAsync(command?.Connection, force: false, cancellationToken);
        return result;
    }

    public async ValueTask<InterceptionResult<object>> ScalarExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken cancellationToken = default)
    {
        await SyncAsync(command?.Connection, force: false, cancellationToken);
        return result;
    }

    public async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        await SyncAsync(command?.Connection, force: false, cancellationToken);
        return result;
    }

    private void Sync(DbConnection? connection, bool force)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var wanted = Wanted;
        if (force || !ReferenceEquals(connection, _connection) || wanted != _applied)
        {
            TenantSession.Apply(connection, wanted, InAmbientTransaction);
            (_connection, _applied) = (connection, wanted);
        }
    }

    private async Task SyncAsync(DbConnection? connection, bool force, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var wanted = Wanted;
        if (force || !ReferenceEquals(connection, _connection) || wanted != _applied)
        {
            await TenantSession.ApplyAsync(connection, wanted, cancellationToken, InAmbientTransaction);
            (_connection, _applied) = (connection, wanted);
        }
    }
}
