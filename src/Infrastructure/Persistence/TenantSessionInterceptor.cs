using System.Data.Common;
using Aggregator.Infrastructure.Tenants;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Aggregator.Infrastructure.Persistence;

/// <summary>
/// Tells PostgreSQL which tenant a connection works for (<c>app.tenant_id</c>), each time EF opens
/// one, so row-level security holds even for a query that slips past the EF tenant filter. Empty for
/// scopes without a tenant (system work, operator commands, authentication), which the policies let
/// through, as a pooled connection must never keep the previous user's tenant.
/// </summary>
internal sealed class TenantSessionInterceptor(CurrentTenant tenant) : DbConnectionInterceptor
{
    public const string Setting = "app.tenant_id";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = Command(connection);
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var command = Command(connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private DbCommand Command(DbConnection connection)
    {
        var command = connection.CreateCommand();
        command.CommandText = $"SELECT set_config('{Setting}', @tenant, false)";
        var parameter = command.CreateParameter();
        parameter.ParameterName = "tenant";
        parameter.Value = tenant.TenantId?.ToString() ?? "";
        command.Parameters.Add(parameter);
        return command;
    }
}
