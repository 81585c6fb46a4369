using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.WebUtilities;

namespace Aggregator.Sandbox.Authorization;

/// <summary>A patient who signed in for one authorization request, valid for a few minutes.</summary>
public sealed record LoginTicket(string Persona, string Version, string PatientId, string Binding, long ExpiresAtUnixMs);

/// <summary>
/// State carried through the portal's HTML forms instead of a session cookie: the authorize request behind the
/// login form, and the login ticket behind the consent form. Both are tamper-proof; the ticket is bound to the
/// exact authorize request (client, redirect, state, PKCE challenge, aud, scopes) so it cannot be replayed
/// for another one.
/// </summary>
public sealed class PortalTickets(IDataProtectionProvider dataProtection, TimeProvider time)
{
    public static readonly TimeSpan LoginLifetime = TimeSpan.FromMinutes(10);

    private static readonly string[] BoundParameters =
        ["client_id", "redirect_uri", "response_type", "state", "code_challenge", "code_challenge_method", "aud", "scope", "nonce"];

    private readonly IDataProtector _requests = dataProtection.CreateProtector("Aggregator.Sandbox.OAuth.AuthorizeRequest");
    private readonly IDataProtector _logins = dataProtection.CreateProtector("Aggregator.Sandbox.OAuth.LoginTicket");

    public string ProtectRequest(IReadOnlyList<KeyValuePair<string, string>> parameters) =>
        WebEncoders.Base64UrlEncode(_requests.Protect(JsonSerializer.SerializeToUtf8Bytes(parameters.Select(p => new[] { p.Key, p.Value }))));

    public IReadOnlyList<KeyValuePair<string, string>>? UnprotectRequest(string? protectedRequest)
    {
        if (string.IsNullOrEmpty(protectedRequest))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<string[][]>(_requests.Unprotect(WebEncoders.Base64UrlDecode(protectedRequest)))?
                .Where(p => p.Length == 2)
                .Select(p => new KeyValuePair<string, string>(p[0], p[1]))
                .ToList();
        }
        catch (Exception exception) when (exception is FormatException or CryptographicException or JsonException)
        {
            return null;
        }
    }

    public string IssueLogin(string persona, string version, string patientId, string binding)
    {
        var ticket = new LoginTicket(persona, version, patientId, binding, time.GetUtcNow().Add(LoginLifetime).ToUnixTimeMilliseconds());
        return WebEncoders.Base64UrlEncode(_logins.Protect(JsonSerializer.SerializeToUtf8Bytes(ticket)));
    }

    /// <summary>The ticket, if it is genuine, unexpired and issued for this very request.</summary>
    public LoginTicket? ReadLogin(string? protectedTicket, string binding)
    {
        if (string.IsNullOrEmpty(protectedTicket))
        {
            return null;
        }

        try
        {
            var ticket = JsonSerializer.Deserialize<LoginTicket>(_logins.Unprotect(WebEncoders.Base64UrlDecode(protectedTicket)));
            return ticket is not null && ticket.Binding == binding && ticket.ExpiresAtUnixMs >= time.GetUtcNow().ToUnixTimeMilliseconds()
                ? ticket
                : null;
        }
        catch (Exception exception) when (exception is FormatException or CryptographicException or JsonException)
        {
            return null;
        }
    }

    /// <summary>A digest of the parameters that define an authorize request.</summary>
    public static string Binding(Func<string, string?> parameter)
    {
        var text = string.Join('\n', BoundParameters.Select(name => $"{name}={parameter(name)}"));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }
}
