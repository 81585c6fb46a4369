namespace Aggregator.Infrastructure.Connections;

public sealed class ConnectOptions
{
    public const string Section = "Connect";

    /// <summary>How long a patient has to finish the provider's login.</summary>
    public TimeSpan StateLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long the tenant's backend has to redeem a first binding's result code; after it the connection
    /// is revoked at the provider and deleted with everything it fetched.
    /// </summary>
    public TimeSpan ConfirmationWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long before a refresh token expires the tenant hears <c>connection.refresh_expiring</c>.</summary>
    public TimeSpan RefreshExpiringNotice { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How long a hosted Connect session (and its url) lives.</summary>
    public TimeSpan LinkSessionLifetime { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// How long a purge or a patient's deletion waits for a sync of the connection that is still writing (it stops at
    /// its next batch once the connection is revoked); past it the call answers 409 and deletes nothing.
    /// </summary>
    public TimeSpan SyncStopTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary><c>Api:*</c>: where the Api and the web app are reached from outside.</summary>
public sealed class ApiPublicOptions
{
    public const string Section = "Api";

    /// <summary>The Api's own public base, for the OAuth redirect_uri.</summary>
    public Uri? PublicBaseUrl { get; set; }

    /// <summary>The web app's root url (<c>src/Web</c>): link-session urls point at its hosted Connect page.</summary>
    public Uri? WebBaseUrl { get; set; }
}
