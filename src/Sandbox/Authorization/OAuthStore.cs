using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Aggregator.Sandbox.Authorization;

/// <summary>
/// Where the OAuth store lives: a private in-memory SQLite database per process (kept alive by one open
/// connection) unless <c>Sandbox:StorePath</c> names a file, so demo grants survive a restart.
/// </summary>
public sealed class OAuthStore : IDisposable
{
    private readonly SqliteConnection? _keepAlive;

    public OAuthStore(IOptions<SandboxOptions> options)
    {
        if (options.Value.StorePath is { Length: > 0 } storePath)
        {
            var file = Path.GetFullPath(storePath);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            ConnectionString = new SqliteConnectionStringBuilder { DataSource = file, Pooling = false }.ToString();
            KeyFolder = Path.Combine(Path.GetDirectoryName(file)!, "sandbox-keys");
        }
        else
        {
            ConnectionString = new SqliteConnectionStringBuilder
            {
                DataSource = $"sandbox-oauth-{Guid.NewGuid():N}",
                Mode = SqliteOpenMode.Memory,
                Cache = SqliteCacheMode.Shared,
            }.ToString();
            _keepAlive = new SqliteConnection(ConnectionString);
            _keepAlive.Open();
        }
    }

    public string ConnectionString { get; }

    /// <summary>Where signing, encryption and data-protection keys are kept beside a store file; null in memory.</summary>
    public string? KeyFolder { get; }

    public void Dispose() => _keepAlive?.Dispose();
}
