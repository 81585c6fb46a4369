namespace Aggregator.Web;

/// <summary><c>Web:*</c>: where the Api is, and the one tenant the companion app works for.</summary>
public sealed class WebOptions
{
    public const string Section = "Web";

    /// <summary>The Api's root url (required).</summary>
    public Uri? ApiBaseUrl { get; set; }

    /// <summary>The tenant's API key the companion app uses server-side (link sessions, result codes); never sent to a browser.</summary>
    public string? ApiKey { get; set; }
}
