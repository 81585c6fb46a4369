using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Http.HttpClientLibrary;
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
/// The web app's one way to the Api: the client generated from the API's contract (<c>openapi/aggregator-v1.json</c>,
/// by Kiota, in <c>Generated/</c>), called with the caller's own credential (the Connect page's link-session
/// credential, a patient's session token, or the app's tenant key). Pages never build Api urls or parse JSON themselves.
/// </summary>
public sealed class AggregatorApi(HttpClient http)
{
    public const string HttpClientName = "aggregator-api";

    /// <summary>The same Api, for answers streamed through as they come (events, documents): no resilience handler buffering or retrying them.</summary>
    public const string StreamClientName = "aggregator-api-stream";

    public async Task<OpenedLinkSession> OpenLinkSessionAsync(string token, CancellationToken cancellationToken)
    {
        var opened = await CallAsync(null, client => client.V1.LinkSessions.Open.PostAsync(new Generated.Models.OpenLinkSessionRequest { Token = token }, cancellationToken: cancellationToken));
        return new OpenedLinkSession(opened!.LinkSessionId!.Value, opened.Credential!, opened.ExpiresAt!.Value);
    }

    public async Task<LinkSession> GetLinkSessionAsync(string credential, Guid linkSessionId, CancellationToken cancellationToken)
    {
        var view = await CallAsync(credential, client => client.V1.LinkSessions[linkSessionId].GetAsync(cancellationToken: cancellationToken));
        return new LinkSession(
            view!.Id!.Value,
            Wire(view.Status),
            view.Mode!,
            view.ExpiresAt!.Value,
            view.TenantName!,
            view.TenantLogoUrl,
            view.Consented ?? false,
            view.Update is { } update ? new LinkSessionUpdateTarget(update.ConnectionId!.Value, update.ProviderId!.Value, update.ProviderName!, Wire(update.Status)) : null,
            [.. (view.Connections ?? []).Select(c => new LinkSessionConnection(
                c.ConnectionId!.Value, c.ProviderId!.Value, c.ProviderName!, Wire(c.Status),
                c.Sync is { } sync ? new LinkSessionSync(sync.SyncRunId!.Value, Wire(sync.Status), sync.ResourcesSoFar ?? 0) : null))]);
    }

    public Task ConsentAsync(string credential, Guid linkSessionId, CancellationToken cancellationToken) =>
        CallAsync(credential, async client =>
        {
            await client.V1.LinkSessions[linkSessionId].Consent.PostAsync(cancellationToken: cancellationToken);
            return true;
        });

    public async Task<IReadOnlyList<Provider>> SearchProvidersAsync(string credential, string? query, CancellationToken cancellationToken)
    {
        var page = await CallAsync(credential, client => client.V1.Providers.GetAsync(request =>
        {
            request.QueryParameters.Limit = 20;
            request.QueryParameters.Q = query ?? "";
        }, cancellationToken));
        return [.. (page?.Items ?? []).Select(p => new Provider(p.Id!.Value, p.Name!, p.Brand!, p.FhirVersion!, p.Location))];
    }

    /// <summary>Starts a provider's login; returns where to send the patient's browser.</summary>
    public async Task<Uri> StartLinkConnectionAsync(string credential, Guid linkSessionId, Guid providerId, CancellationToken cancellationToken) =>
        new((await CallAsync(credential, client => client.V1.LinkSessions[linkSessionId].Connections.PostAsync(
            new Generated.Models.StartLinkConnectionRequest { ProviderId = providerId }, cancellationToken: cancellationToken)))!.AuthorizeUrl!);

    public async Task<Uri> CompleteLinkSessionAsync(string credential, Guid linkSessionId, CancellationToken cancellationToken) =>
        new((await CallAsync(credential, client => client.V1.LinkSessions[linkSessionId].Complete.PostAsync(cancellationToken: cancellationToken)))!.RedirectUrl!);

    public async Task<Uri> CancelLinkSessionAsync(string credential, Guid linkSessionId, string? reason, CancellationToken cancellationToken) =>
        new((await CallAsync(credential, client => client.V1.LinkSessions[linkSessionId].Cancel.PostAsync(
            new Generated.Models.CancelLinkSessionRequest { Reason = reason }, cancellationToken: cancellationToken)))!.RedirectUrl!);

    /// <summary>
    /// One call of the generated client with <paramref name="credential"/> (none for the anonymous calls); an answer
    /// that is not a success becomes an <see cref="ApiProblemException"/> with the problem's status and type.
    /// </summary>
    public async Task<T> CallAsync<T>(string? credential, Func<Generated.AggregatorClient, Task<T>> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        var adapter = new HttpClientRequestAdapter(new BearerCredential(credential), httpClient: http) { BaseUrl = http.BaseAddress!.AbsoluteUri.TrimEnd('/') };
        try
        {
            return await call(new Generated.AggregatorClient(adapter));
        }
        catch (Generated.Models.Problem problem)
        {
            throw new ApiProblemException(problem.ResponseStatusCode, problem.Type, problem.Title, problem.Detail);
        }
        catch (ApiException failure)
        {
            throw new ApiProblemException(failure.ResponseStatusCode, null, null, null);
        }
    }

    /// <summary>An enum of the API as it is spelled on the wire (<c>pending_confirmation</c>, <c>running</c>, …).</summary>
    public static string Wire<TEnum>(TEnum? value) where TEnum : struct, Enum => value is { } known ? WireName(known) : "";

    public static string WireName(Enum value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.GetType().GetField(value.ToString())?.GetCustomAttributes(typeof(System.Runtime.Serialization.EnumMemberAttribute), false)
            .OfType<System.Runtime.Serialization.EnumMemberAttribute>().FirstOrDefault()?.Value ?? value.ToString().ToLowerInvariant();
    }

    /// <summary>Adds <c>Authorization: Bearer</c> with the caller's credential to each request.</summary>
    private sealed class BearerCredential(string? credential) : IAuthenticationProvider
    {
        public Task AuthenticateRequestAsync(RequestInformation request, Dictionary<string, object>? additionalAuthenticationContext = null, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(request);
            if (credential is not null)
            {
                request.Headers.Add("Authorization", "Bearer " + credential);
            }

            return Task.CompletedTask;
        }
    }
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
#pragma warning disable EXTEXP0001 // The supported way to opt one client out of the default resilience handler.
        builder.Services.AddHttpClient(AggregatorApi.StreamClientName, (services, client) =>
            {
                var root = services.GetRequiredService<IOptions<WebOptions>>().Value.ApiBaseUrl!;
                client.BaseAddress = new Uri(root.AbsoluteUri.TrimEnd('/') + "/");
                client.Timeout = Timeout.InfiniteTimeSpan;
            })
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false })
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        return builder;
    }
}
