using Aggregator.Infrastructure.Connections;
using Aggregator.Infrastructure.Sync;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Infrastructure.Providers;

/// <summary>The HttpClients that talk to providers, each with the resilience its requests can bear.</summary>
internal static class ProviderHttpClients
{
    public static IServiceCollection AddProviderHttpClients(this IServiceCollection services)
    {
        services.AddHttpClient(SmartDiscovery.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(30));
        services.AddHttpClient(ProviderFhirClient.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);

        // Token and revocation requests are never retried blindly: a retried refresh replays a
        // rotated-away token, and the provider then revokes the whole grant.
#pragma warning disable EXTEXP0001 // The supported way to opt one client out of the default resilience handler.
        services.AddHttpClient(ProviderTokenClient.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(30))
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        return services;
    }
}
