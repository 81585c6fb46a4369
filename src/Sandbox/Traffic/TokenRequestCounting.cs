using System.Text;
using Aggregator.Sandbox.Personas;
using Microsoft.Net.Http.Headers;

namespace Aggregator.Sandbox.Traffic;

/// <summary>
/// Counts calls to the token endpoint before the authorization server answers them (refused ones too), under the
/// client's persona and the patient of the presented code or refresh token.
/// </summary>
public sealed class TokenRequestCounting(RequestDelegate next, RequestCounter counter, IssuedGrants grants, PersonaCatalog personas)
{
    private const string TokenPath = "/oauth/token";

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (HttpMethods.IsPost(request.Method) && request.Path.Equals(TokenPath, StringComparison.OrdinalIgnoreCase) && request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(context.RequestAborted);
            var clientId = form["client_id"].ToString() is { Length: > 0 } posted ? posted : BasicClientId(request);
            var persona = personas.All.FirstOrDefault(p => p.Options.Clients.Exists(c => c.ClientId == clientId))?.Name ?? "";
            var grantType = form["grant_type"].ToString();
            var patient = grantType switch
            {
                "refresh_token" => grants.PatientOf(form["refresh_token"]),
                "authorization_code" => grants.PatientOf(form["code"]),
                _ => null,
            };
            counter.Count(persona, patient, CountedRequest.Token);
            if (grantType == "refresh_token")
            {
                counter.Count(persona, patient, CountedRequest.RefreshToken);
            }
        }

        await next(context);
    }

    private static string? BasicClientId(HttpRequest request)
    {
        var header = request.Headers[HeaderNames.Authorization].ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        try
        {
            var credentials = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
            var colon = credentials.IndexOf(':', StringComparison.Ordinal);
            return colon > 0 ? Uri.UnescapeDataString(credentials[..colon]) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
