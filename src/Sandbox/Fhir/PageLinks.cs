using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace Aggregator.Sandbox.Fhir;

/// <summary>What a <c>next</c> link carries: the search, where the previous page ended, and when the link dies.</summary>
public sealed class PageState
{
    public string Persona { get; set; } = "";

    public string Version { get; set; } = "";

    public string Type { get; set; } = "";

    public string? Patient { get; set; }

    public List<string[]> Parameters { get; set; } = [];

    public int Count { get; set; }

    public long AfterTicks { get; set; }

    public string AfterId { get; set; } = "";

    public long ExpiresAtUnixMs { get; set; }
}

/// <summary>
/// Opaque, tamper-proof paging tokens. They hold the search itself (no server-side cursor to clean up)
/// and an expiry read from the injected clock.
/// </summary>
public sealed class PageLinks(IDataProtectionProvider dataProtection, TimeProvider time, IOptions<SandboxOptions> options)
{
    private readonly IDataProtector _protector = dataProtection.CreateProtector("Aggregator.Sandbox.Fhir.PageLinks");

    public string Issue(PageState state)
    {
        state.ExpiresAtUnixMs = time.GetUtcNow().Add(options.Value.Paging.LinkLifetime).ToUnixTimeMilliseconds();
        return WebEncoders.Base64UrlEncode(_protector.Protect(JsonSerializer.SerializeToUtf8Bytes(state)));
    }

    public PageLinkStatus TryRead(string token, out PageState? state)
    {
        state = null;
        try
        {
            state = JsonSerializer.Deserialize<PageState>(_protector.Unprotect(WebEncoders.Base64UrlDecode(token)));
        }
        catch (Exception exception) when (exception is FormatException or System.Security.Cryptography.CryptographicException or JsonException)
        {
            return PageLinkStatus.Invalid;
        }

        if (state is null)
        {
            return PageLinkStatus.Invalid;
        }

        return time.GetUtcNow().ToUnixTimeMilliseconds() > state.ExpiresAtUnixMs ? PageLinkStatus.Expired : PageLinkStatus.Valid;
    }
}

public enum PageLinkStatus
{
    Valid,
    Invalid,
    Expired,
}
