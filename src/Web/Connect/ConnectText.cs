using Aggregator.Web.ApiClient;

namespace Aggregator.Web.Connect;

/// <summary>The words the Connect page uses for states and outcomes, in one place.</summary>
public static class ConnectText
{
    /// <summary>The connect flow's reason words, the only ones a session may end with.</summary>
    public static readonly IReadOnlySet<string> Reasons = new HashSet<string>(StringComparer.Ordinal)
    {
        "access_denied", "invalid_state", "expired_state", "token_exchange_failed", "provider_unreachable", "patient_mismatch",
    };

    /// <summary>A connection's state as a patient reads it.</summary>
    public static string Status(LinkSessionConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return connection.Sync switch
        {
            { Status: "queued" } => "Connected. Getting ready to copy your records…",
            { Status: "running", ResourcesSoFar: var n } => $"Connected. Copying your records: {n} so far…",
            { Status: "succeeded", ResourcesSoFar: var n } => $"Connected. {n} records copied.",
            { Status: "partial", ResourcesSoFar: var n } => $"Connected. {n} records copied; some could not be read and will be tried again.",
            { Status: "failed" } => "Connected, but the first copy failed. It will be tried again.",
            _ => "Connected.",
        };
    }

    /// <summary>What the provider's login ended with, from the <c>status</c> and <c>reason</c> on the page's url.</summary>
    public static string? Outcome(string? status, string? reason) => (status, reason) switch
    {
        ("connected", _) => "You are connected. Your records are being copied now.",
        ("denied", _) or (_, "access_denied") => "You did not allow access at your provider, so nothing was connected.",
        (_, "patient_mismatch") => "You signed in as a different person than the one this connection belongs to, so nothing was changed.",
        (_, "expired_state") => "The sign-in took too long, so nothing was connected. Please try again.",
        (_, "provider_unreachable") => "Your provider could not be reached just now. Please try again in a few minutes.",
        ("error", _) => "Something went wrong at your provider, so nothing was connected. Please try again.",
        _ => null,
    };
}
