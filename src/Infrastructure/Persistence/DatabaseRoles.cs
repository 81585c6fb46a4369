using Npgsql;

namespace Aggregator.Infrastructure.Persistence;

/// <summary>
/// The two database roles: the owner, which migrates the schema (<c>ConnectionStrings:AggregatorOwner</c>), and the
/// role the Api and Workers connect as (<c>ConnectionStrings:Aggregator</c>), which owns nothing, is no superuser and
/// so stays under row-level security. Without an owner connection string one role does both (a warning says so).
/// </summary>
public sealed class DatabaseRoles : IAsyncDisposable
{
    public const string OwnerConnectionStringName = "AggregatorOwner";

    private readonly NpgsqlDataSource? _ownedOwner;

    /// <param name="app">The services' data source.</param>
    /// <param name="ownerConnectionString">The owner's connection string, or null when the services' role migrates too.</param>
    public DatabaseRoles(NpgsqlDataSource app, string? ownerConnectionString)
    {
        ArgumentNullException.ThrowIfNull(app);
        App = app;
        if (string.IsNullOrWhiteSpace(ownerConnectionString))
        {
            Owner = app;
            return;
        }

        _ownedOwner = new NpgsqlDataSourceBuilder(ownerConnectionString).Build();
        Owner = _ownedOwner;
        var appUser = new NpgsqlConnectionStringBuilder(app.ConnectionString).Username;
        var ownerUser = new NpgsqlConnectionStringBuilder(ownerConnectionString).Username;
        AppRole = !string.IsNullOrEmpty(appUser) && !string.Equals(appUser, ownerUser, StringComparison.Ordinal) ? appUser : null;
    }

    public NpgsqlDataSource App { get; }

    public NpgsqlDataSource Owner { get; }

    /// <summary>The services' role when it is not the owner: granted what it needs on every table after each migration.</summary>
    public string? AppRole { get; }

    public async ValueTask DisposeAsync()
    {
        if (_ownedOwner is not null)
        {
            await _ownedOwner.DisposeAsync();
        }
    }
}
