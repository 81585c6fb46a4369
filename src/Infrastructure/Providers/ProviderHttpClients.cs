using Aggregator.Infrastructure.Connections;
using Aggregator.Infrastructure.Sync;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Infrastructure.Providers;

/// <summary>The HttpClients that talk to providers, each with the resilience its requests can bear.</summary>
internal static class ProviderHttpClients
{
    public static IServiceCollection AddProviderHttpClients(this IServiceCollection services)
    {
        // Provider clients follow no redirects: an answer is the configured server's own, or a failure with its status.
        services.AddHttpClient(SmartDiscovery.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(30))
            .ConfigurePrimaryHttpMessageHandler(NoRedirects);
#pragma warning disable EXTEXP0001 // The supported way to opt one client out of the default resilience handler.
        // FHIR reads retry in ProviderFhirClient, which knows about 401 refreshes, Retry-After caps and the run's clock.
        // Each FHIR request has its own deadline (Sync:RequestTimeout, body included), so the client sets none.
        services.AddHttpClient(ProviderFhirClient.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(NoRedirects)
            .RemoveAllResilienceHandlers();

        // Token and revocation requests are never retried blindly: a retried refresh replays a
        // rotated-away token, and the provider then revokes the whole grant.
        // Endpoints only a discovery document names are dialled on a public address, checked at connect time.
        services.AddHttpClient(ProviderTokenClient.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(30))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false, ConnectCallback = ProviderAddressPolicy.ConnectAsync, ActivityHeadersPropagator = NoTraceHeaders,
            })
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        return services;
    }

    /// <summary>
    /// Our trace ids stay ours: no <c>traceparent</c>, <c>tracestate</c> or baggage goes to a provider or a tenant's
    /// webhook endpoint (the client's own span is still recorded).
    /// </summary>
    internal static readonly System.Diagnostics.DistributedContextPropagator NoTraceHeaders =
        System.Diagnostics.DistributedContextPropagator.CreateNoOutputPropagator();

    private static SocketsHttpHandler NoRedirects() => new() { AllowAutoRedirect = false, ActivityHeadersPropagator = NoTraceHeaders };
}
