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

    /// <summary>Increases with every link issued, so a fault can expire all links issued before it.</summary>
    public long IssuedSerial { get; set; }
}

/// <summary>
/// Opaque, tamper-proof paging tokens. They hold the search itself (no server-side cursor to clean up)
/// and an expiry read from the injected clock.
/// </summary>
public sealed class PageLinks(IDataProtectionProvider dataProtection, TimeProvider time, IOptions<SandboxOptions> options)
{
    private readonly IDataProtector _protector = dataProtection.CreateProtector("Aggregator.Sandbox.Fhir.PageLinks");
    private long _lastSerial;

    /// <summary>The serial of the last link issued.</summary>
    public long LastSerial => Interlocked.Read(ref _lastSerial);

    public string Issue(PageState state)
    {
        var now = time.GetUtcNow();
        state.ExpiresAtUnixMs = now.Add(options.Value.Paging.LinkLifetime).ToUnixTimeMilliseconds();
        state.IssuedSerial = NextSerial(now.UtcTicks);
        return WebEncoders.Base64UrlEncode(_protector.Protect(JsonSerializer.SerializeToUtf8Bytes(state)));
    }

    /// <summary>Clock ticks, but strictly increasing (also across restarts with a store file, and under a paused test clock).</summary>
    private long NextSerial(long ticks)
    {
        while (true)
        {
            var last = Interlocked.Read(ref _lastSerial);
            var next = Math.Max(last + 1, ticks);
            if (Interlocked.CompareExchange(ref _lastSerial, next, last) == last)
            {
                return next;
            }
        }
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
