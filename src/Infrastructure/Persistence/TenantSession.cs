using System.Data;
using System.Data.Common;
using Npgsql;

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

    /// <param name="transactionLocal">
    /// Set for the current transaction only: for a connection enlisted in an ambient transaction (a
    /// <see cref="Jobs.JobTransaction"/>), which goes back to the pool without a reset when that transaction ends.
    /// </param>
    internal static async Task ApplyAsync(DbConnection connection, SessionValue value, CancellationToken cancellationToken, bool transactionLocal = false)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var command = Command(connection, value, transactionLocal);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Sets the session and runs <paramref name="command"/> in one round trip: a batch of the setting and the command,
    /// whose reader starts at the command's rows. The setting comes first, so the command runs under it.
    /// </summary>
    internal static async Task<DbDataReader> ApplyAndReadAsync(
        NpgsqlCommand command, SessionValue value, bool transactionLocal, CommandBehavior behavior, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var batch = new NpgsqlBatch(command.Connection, command.Transaction) { Timeout = command.CommandTimeout };
        batch.BatchCommands.Add(Setting(value, transactionLocal));
        var read = new NpgsqlBatchCommand(command.CommandText);
        foreach (NpgsqlParameter parameter in command.Parameters)
        {
            read.Parameters.Add(parameter.Clone());
        }

        batch.BatchCommands.Add(read);
        var reader = await batch.ExecuteReaderAsync(behavior, cancellationToken);
        try
        {
            await reader.NextResultAsync(cancellationToken);
            return reader;
        }
        catch
        {
            await reader.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The setting for one tenant as the first command of a batch, for reads written in SQL that set the session in the
    /// same round trip as their query (skip its result: <c>NextResultAsync</c>).
    /// </summary>
    internal static NpgsqlBatchCommand SettingForTenant(Guid tenantId) => Setting(Value(tenantId, allTenants: false), transactionLocal: false);

    private static NpgsqlBatchCommand Setting(SessionValue value, bool transactionLocal)
    {
        var setting = new NpgsqlBatchCommand(PositionalText(transactionLocal));
        setting.Parameters.Add(new NpgsqlParameter { Value = value.TenantId });
        setting.Parameters.Add(new NpgsqlParameter { Value = value.AllTenants });
        return setting;
    }

    internal static void Apply(DbConnection connection, SessionValue value, bool transactionLocal = false)
    {
        using var command = Command(connection, value, transactionLocal);
        command.ExecuteNonQuery();
    }

    private static string PositionalText(bool transactionLocal)
    {
        var local = transactionLocal ? "true" : "false";
        return $"SELECT set_config('{TenantSetting}', $1, {local}), set_config('{AllTenantsSetting}', $2, {local})";
    }

    private static DbCommand Command(DbConnection connection, SessionValue value, bool transactionLocal)
    {
        var command = connection.CreateCommand();
        var local = transactionLocal ? "true" : "false";
        command.CommandText = $"SELECT set_config('{TenantSetting}', @tenant, {local}), set_config('{AllTenantsSetting}', @all, {local})";
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
