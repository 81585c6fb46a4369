using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.ApiClient;

/// <summary>An answer of the Api that was not a success: its problem details, as the page may show them.</summary>
public sealed class ApiProblemException(int status, string? type, string? title, string? detail)
    : Exception(title ?? $"The Api answered {status}.")
{
    public int Status { get; } = status;
    public string? Type { get; } = type;
    public string? Detail { get; } = detail;
}

/// <summary>
/// The web app's one way to the Api: the public REST API, with the caller's own credential (a link-session
/// credential for the Connect page). Pages never build Api urls or parse JSON themselves.
/// </summary>
public sealed class AggregatorApi(HttpClient http)
{
    public const string HttpClientName = "aggregator-api";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public async Task<OpenedLinkSession> OpenLinkSessionAsync(string token, CancellationToken cancellationToken) =>
        await SendAsync<OpenedLinkSession>(HttpMethod.Post, "v1/link-sessions/open", null, new { token }, cancellationToken);

    public Task<LinkSession> GetLinkSessionAsync(string credential, Guid linkSessionId, CancellationToken cancellationToken) =>
        SendAsync<LinkSession>(HttpMethod.Get, $"v1/link-sessions/{linkSessionId}", credential, null, cancellationToken);

    public Task ConsentAsync(string credential, Guid linkSessionId, CancellationToken cancellationToken) =>
        SendAsync<JsonElement?>(HttpMethod.Post, $"v1/link-sessions/{linkSessionId}/consent", credential, null, cancellationToken);

    public async Task<IReadOnlyList<Provider>> SearchProvidersAsync(string credential, string? query, CancellationToken cancellationToken)
    {
        var page = await SendAsync<ProviderPage>(HttpMethod.Get, "v1/providers?limit=20&q=" + Uri.EscapeDataString(query ?? ""), credential, null, cancellationToken);
        return page.Items;
    }

    /// <summary>Starts a provider's login; returns where to send the patient's browser.</summary>
    public async Task<Uri> StartLinkConnectionAsync(string credential, Guid linkSessionId, Guid providerId, CancellationToken cancellationToken) =>
        new((await SendAsync<StartedConnection>(HttpMethod.Post, $"v1/link-sessions/{linkSessionId}/connections", credential, new { providerId }, cancellationToken)).AuthorizeUrl);

    public async Task<Uri> CompleteLinkSessionAsync(string credential, Guid linkSessionId, CancellationToken cancellationToken) =>
        new((await SendAsync<SessionOutcome>(HttpMethod.Post, $"v1/link-sessions/{linkSessionId}/complete", credential, null, cancellationToken)).RedirectUrl);

    public async Task<Uri> CancelLinkSessionAsync(string credential, Guid linkSessionId, string? reason, CancellationToken cancellationToken) =>
        new((await SendAsync<SessionOutcome>(HttpMethod.Post, $"v1/link-sessions/{linkSessionId}/cancel", credential, new { reason }, cancellationToken)).RedirectUrl);

    private async Task<T> SendAsync<T>(HttpMethod method, string path, string? credential, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (credential is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", credential);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: Json);
        }

        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var problem = await ReadProblemAsync(response, cancellationToken);
            throw new ApiProblemException((int)response.StatusCode, problem?.Type, problem?.Title, problem?.Detail);
        }

        return response.Content.Headers.ContentLength == 0 || response.StatusCode == System.Net.HttpStatusCode.NoContent
            ? default!
            : (await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken))!;
    }

    private static async Task<Problem?> ReadProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<Problem>(Json, cancellationToken);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private sealed record Problem(string? Type, string? Title, string? Detail);

    private sealed record ProviderPage(IReadOnlyList<Provider> Items);

    private sealed record StartedConnection(Guid ConnectionId, string AuthorizeUrl);

    private sealed record SessionOutcome(string RedirectUrl);
}

public sealed record OpenedLinkSession(Guid LinkSessionId, string Credential, DateTimeOffset ExpiresAt);

public sealed record LinkSession(
    Guid Id,
    string Status,
    string Mode,
    DateTimeOffset ExpiresAt,
    string TenantName,
    string? TenantLogoUrl,
    bool Consented,
    LinkSessionUpdateTarget? Update,
    IReadOnlyList<LinkSessionConnection> Connections)
{
    public bool IsActive => Status == "active";

    public bool IsUpdate => Mode == "update";
}

public sealed record LinkSessionUpdateTarget(Guid ConnectionId, Guid ProviderId, string ProviderName, string Status);

public sealed record LinkSessionConnection(Guid ConnectionId, Guid ProviderId, string ProviderName, string Status, LinkSessionSync? Sync)
{
    /// <summary>While the first sync is queued or running.</summary>
    public bool Syncing => Sync?.Status is "queued" or "running";
}

public sealed record LinkSessionSync(Guid SyncRunId, string Status, int ResourcesSoFar);

public sealed record Provider(Guid Id, string Name, string Brand, string FhirVersion, string? Location);

/// <summary>Registers the Api client: <c>Web:ApiBaseUrl</c>, no redirects followed.</summary>
public static class AggregatorApiRegistration
{
    public static IHostApplicationBuilder AddAggregatorApi(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddHttpClient<AggregatorApi>(AggregatorApi.HttpClientName, (services, client) =>
            {
                var root = services.GetRequiredService<IOptions<WebOptions>>().Value.ApiBaseUrl!;
                client.BaseAddress = new Uri(root.AbsoluteUri.TrimEnd('/') + "/");
            })
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        return builder;
    }
}
