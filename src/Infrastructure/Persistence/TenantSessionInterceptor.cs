using System.Data.Common;
using Aggregator.Infrastructure.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;

namespace Aggregator.Infrastructure.Persistence;

/// <summary>What the session of one context's connection was last set to, and for which connection.</summary>
internal sealed class TenantSessionState
{
    /// <summary>Until bound, nobody: tenant-owned rows are invisible (to the query filter and to row-level security).</summary>
    public CurrentTenant Tenant { get; private set; } = new();

    /// <summary>Acts for <paramref name="tenant"/> from now on, on whatever connection comes next (a pooled context's last one is forgotten).</summary>
    public void Bind(CurrentTenant tenant)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        Tenant = tenant;
        Connection = null;
        Applied = default;
    }

    public DbConnection? Connection { get; set; }

    public TenantSession.SessionValue Applied { get; set; }

    public TenantSession.SessionValue Wanted => TenantSession.Value(Tenant.TenantId, Tenant.IsSystem);
}

/// <summary>
/// Keeps EF's connection session in step with the context's <see cref="CurrentTenant"/>: set when EF opens the
/// connection, and set again before a command whenever the scope's tenant or system mode changed since (a scope
/// acts as system for a lookup, then for the tenant it found, possibly on one open connection). One instance serves
/// every context (so that the context's options are built once, not per request): what it applied is kept on each
/// <see cref="AggregatorDbContext"/> (<see cref="TenantSessionState"/>).
/// </summary>
internal sealed class TenantSessionInterceptor : DbConnectionInterceptor, IDbCommandInterceptor
{
    public static readonly TenantSessionInterceptor Instance = new();

    private TenantSessionInterceptor()
    {
    }

    /// <summary>
    /// Npgsql returns a connection enlisted in an ambient transaction to the pool unreset when the transaction ends:
    /// its session must then say nothing past that transaction (the next user of the connection would inherit it).
    /// </summary>
    private static bool InAmbientTransaction => System.Transactions.Transaction.Current is not null;

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Sync(StateOf(eventData?.Context), connection, force: true);

    /// <summary>
    /// A connection opened asynchronously has its session set with its first command: for a query, in the same round
    /// trip (<see cref="TenantSession.ApplyAndReadAsync"/>); until then it is nobody's, as the pool's reset left it.
    /// </summary>
    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(StateOf(eventData?.Context));
        return Task.CompletedTask;
    }

    public override void ConnectionClosed(DbConnection connection, ConnectionEndEventData eventData) => Forget(StateOf(eventData?.Context));

    public override Task ConnectionClosedAsync(DbConnection connection, ConnectionEndEventData eventData)
    {
        Forget(StateOf(eventData?.Context));
        return Task.CompletedTask;
    }

    public InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        Sync(StateOf(eventData?.Context), command?.Connection, force: false);
        return result;
    }

    public InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result)
    {
        Sync(StateOf(eventData?.Context), command?.Connection, force: false);
        return result;
    }

    public InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
    {
        Sync(StateOf(eventData?.Context), command?.Connection, force: false);
        return result;
    }

    public async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        var state = StateOf(eventData?.Context);
        // One statement (a query; an update batch has several, which a batch's command cannot hold): folded with the setting.
        if (state is not null && !result.HasResult && command is NpgsqlCommand npgsql && npgsql.Connection is { } connection
            && !npgsql.CommandText.Contains(';', StringComparison.Ordinal)
            && (!ReferenceEquals(connection, state.Connection) || state.Wanted != state.Applied))
        {
            var wanted = state.Wanted;
            var reader = await TenantSession.ApplyAndReadAsync(npgsql, wanted, InAmbientTransaction, System.Data.CommandBehavior.Default, cancellationToken);
            (state.Connection, state.Applied) = (connection, wanted);
            return InterceptionResult<DbDataReader>.SuppressWithResult(reader);
        }

        await SyncAsync(state, command?.Connection, force: false, cancellationToken);
        return result;
    }

    public async ValueTask<InterceptionResult<object>> ScalarExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken cancellationToken = default)
    {
        await SyncAsync(StateOf(eventData?.Context), command?.Connection, force: false, cancellationToken);
        return result;
    }

    public async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        await SyncAsync(StateOf(eventData?.Context), command?.Connection, force: false, cancellationToken);
        return result;
    }

    /// <summary>The state of a context of ours; none for any other context (which this interceptor leaves alone).</summary>
    private static TenantSessionState? StateOf(DbContext? context) => (context as AggregatorDbContext)?.SessionState;

    private static void Forget(TenantSessionState? state)
    {
        if (state is not null)
        {
            state.Connection = null;
        }
    }

    private static void Sync(TenantSessionState? state, DbConnection? connection, bool force)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (state is null)
        {
            return;
        }

        var wanted = state.Wanted;
        if (force || !ReferenceEquals(connection, state.Connection) || wanted != state.Applied)
        {
            TenantSession.Apply(connection, wanted, InAmbientTransaction);
            (state.Connection, state.Applied) = (connection, wanted);
        }
    }

    private static async Task SyncAsync(TenantSessionState? state, DbConnection? connection, bool force, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (state is null)
        {
            return;
        }

        var wanted = state.Wanted;
        if (force || !ReferenceEquals(connection, state.Connection) || wanted != state.Applied)
        {
            await TenantSession.ApplyAsync(connection, wanted, cancellationToken, InAmbientTransaction);
            (state.Connection, state.Applied) = (connection, wanted);
        }
    }
}
