using System.Data.Common;
using Aggregator.Infrastructure.Tenants;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Aggregator.Infrastructure.Persistence;

/// <summary>
/// What a database session may see under row-level security: <c>app.tenant_id</c> (one tenant's rows) or
/// <c>app.all_tenants = on</c> (system work, every tenant's rows). Neither set, the policies show and accept
/// nothing: a session that forgot to say whom it acts for fails closed.
/// </summary>
public static class TenantSession
{
    public const string TenantSetting = "app.tenant_id";
    public const string AllTenantsSetting = "app.all_tenants";

    /// <summary>Sets a raw connection's session for one tenant (a pooled connection keeps nothing of its last user).</summary>
    public static Task ForTenantAsync(DbConnection connection, Guid tenantId, CancellationToken cancellationToken) =>
        ApplyAsync(connection, Value(tenantId, allTenants: false), cancellationToken);

    /// <summary>Sets a raw connection's session for system work that spans tenants.</summary>
    public static Task ForSystemAsync(DbConnection connection, CancellationToken cancellationToken) =>
        ApplyAsync(connection, Value(null, allTenants: true), cancellationToken);

    internal static SessionValue Value(Guid? tenantId, bool allTenants) => new(allTenants ? "" : tenantId?.ToString() ?? "", allTenants ? "on" : "");

    internal static async Task ApplyAsync(DbConnection connection, SessionValue value, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var command = Command(connection, value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static void Apply(DbConnection connection, SessionValue value)
    {
        using var command = Command(connection, value);
        command.ExecuteNonQuery();
    }

    private static DbCommand Command(DbConnection connection, SessionValue value)
    {
        var command = connection.CreateCommand();
        command.CommandText = $"SELECT set_config('{TenantSetting}', @tenant, false), set_config('{AllTenantsSetting}', @all, false)";
        var tenant = command.CreateParameter();
        tenant.ParameterName = "tenant";
        tenant.Value = value.TenantId;
        command.Parameters.Add(tenant);
        var all = command.CreateParameter();
        all.ParameterName = "all";
        all.Value = value.AllTenants;
        command.Parameters.Add(all);
        return command;
    }

    internal readonly record struct SessionValue(string TenantId, string AllTenants);
}

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
            TenantSession.Apply(connection, wanted);
            (_connection, _applied) = (connection, wanted);
        }
    }

    private async Task SyncAsync(DbConnection? connection, bool force, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var wanted = Wanted;
        if (force || !ReferenceEquals(connection, _connection) || wanted != _applied)
        {
            await TenantSession.ApplyAsync(connection, wanted, cancellationToken);
            (_connection, _applied) = (connection, wanted);
        }
    }
}
