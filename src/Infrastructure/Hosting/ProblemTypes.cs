namespace Aggregator.Infrastructure.Hosting;

/// <summary>Stable <c>type</c> URIs of our RFC 9457 problem details; clients may switch on them.</summary>
public static class ProblemTypes
{
    private const string Base = "urn:aggregator:problem:";

    public const string BadRequest = Base + "bad-request";
    public const string Validation = Base + "validation";
    public const string InvalidCursor = Base + "invalid-cursor";
    public const string InvalidState = Base + "invalid-state";
    public const string InvalidResultCode = Base + "invalid-result-code";
    public const string InvalidTicket = Base + "invalid-ticket";
    public const string InvalidLinkToken = Base + "invalid-link-token";
    public const string LinkSessionClosed = Base + "link-session-closed";
    public const string UnknownProvider = Base + "unknown-provider";
    public const string ReturnUrlNotRegistered = Base + "return-url-not-registered";
    public const string ProviderNotConfigured = Base + "provider-not-configured";
    public const string ProviderUnreachable = Base + "provider-unreachable";
    public const string Unauthorized = Base + "unauthorized";
    public const string Forbidden = Base + "forbidden";
    public const string NotFound = Base + "not-found";
    public const string MethodNotAllowed = Base + "method-not-allowed";
    public const string Conflict = Base + "conflict";
    public const string PayloadTooLarge = Base + "payload-too-large";
    public const string UnsupportedMediaType = Base + "unsupported-media-type";
    public const string TooManyRequests = Base + "too-many-requests";
    public const string Internal = Base + "internal";
    public const string Unavailable = Base + "unavailable";

    /// <summary>The type for a bare status code, so that every error response carries one.</summary>
    public static string ForStatus(int status) => status switch
    {
        400 => BadRequest,
        401 => Unauthorized,
        403 => Forbidden,
        404 => NotFound,
        405 => MethodNotAllowed,
        409 => Conflict,
        413 => PayloadTooLarge,
        415 => UnsupportedMediaType,
        429 => TooManyRequests,
        503 => Unavailable,
        _ when status >= 500 => Internal,
        _ => BadRequest,
    };
}
