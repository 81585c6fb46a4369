using System.Net;
using System.Net.Http.Headers;
using Aggregator.Domain.Providers;
using Aggregator.Infrastructure.Connections;

namespace Aggregator.Infrastructure.Sync;

/// <summary>
/// GETs from a connection's FHIR server with its bearer token. A 401 gets one refresh and one
/// retry of the same request; anything else is the caller's to judge. Its HttpClient has the
/// standard resilience handler (GETs are safe to retry; 429/503 Retry-After is honoured).
/// </summary>
public sealed class ProviderFhirClient(IHttpClientFactory http, ConnectionTokens tokens)
{
    public const string HttpClientName = "provider-fhir";

    public async Task<HttpResponseMessage> GetAsync(Guid connectionId, Uri url, FhirVersion version, CancellationToken cancellationToken)
    {
        var accessToken = await tokens.GetAccessTokenAsync(connectionId, cancellationToken);
        var response = await SendAsync(url, accessToken, version, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return response;
        }

        response.Dispose();
        var refreshed = await tokens.RefreshAsync(connectionId, accessToken, cancellationToken);
        return await SendAsync(url, refreshed.AccessToken, version, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendAsync(Uri url, string accessToken, FhirVersion version, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(version == FhirVersion.Dstu2 ? "application/json+fhir" : "application/fhir+json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json", 0.9));
        return await http.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }
}
