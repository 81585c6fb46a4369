using Aggregator.Infrastructure.Tenants;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.IntegrationTests.Infrastructure;

public static class OperatorScopes
{
    /// <summary>A scope that acts as an operator command does: for no tenant, across all of them (row-level security fails closed otherwise).</summary>
    public static AsyncServiceScope CreateOperatorScope(this IServiceProvider services)
    {
        var scope = services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().ActAsSystemForScope();
        return scope;
    }
}
