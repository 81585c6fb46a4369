namespace Aggregator.Infrastructure.Connections;

public sealed class ConnectOptions
{
    public const string Section = "Connect";

    /// <summary>How long a patient has to finish the provider's login.</summary>
    public TimeSpan StateLifetime { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary><c>Api:PublicBaseUrl</c>: the Api's own public base, for the OAuth redirect_uri.</summary>
public sealed class ApiPublicOptions
{
    public const string Section = "Api";

    public Uri? PublicBaseUrl { get; set; }
}
