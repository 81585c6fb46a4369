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
}

/// <summary><c>Api:PublicBaseUrl</c>: the Api's own public base, for the OAuth redirect_uri.</summary>
public sealed class ApiPublicOptions
{
    public const string Section = "Api";

    public Uri? PublicBaseUrl { get; set; }
}
