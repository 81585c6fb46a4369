namespace Aggregator.Infrastructure.Connections;

/// <summary>Why a connect request was refused before the patient was sent anywhere.</summary>
public enum ConnectRefusal
{
    PatientNotFound,
    ProviderNotFound,
    ConnectionNotFound,
    ReturnUrlNotRegistered,
    ProviderNotConfigured,
    ProviderUnreachable,
}

public sealed class ConnectRefusedException(ConnectRefusal refusal, string message) : Exception(message)
{
    public ConnectRefusal Refusal { get; } = refusal;
}

/// <summary>The machine-readable <c>reason</c> on the return url when a connect attempt did not connect.</summary>
public static class CallbackReasons
{
    public const string AccessDenied = "access_denied";
    public const string InvalidState = "invalid_state";
    public const string ExpiredState = "expired_state";
    public const string TokenExchangeFailed = "token_exchange_failed";
    public const string ProviderUnreachable = "provider_unreachable";
    public const string PatientMismatch = "patient_mismatch";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        AccessDenied, InvalidState, ExpiredState, TokenExchangeFailed, ProviderUnreachable, PatientMismatch,
    };
}

/// <summary>The <c>status</c> on the return url.</summary>
public static class CallbackStatuses
{
    public const string Connected = "connected";
    public const string Denied = "denied";
    public const string Error = "error";
}
