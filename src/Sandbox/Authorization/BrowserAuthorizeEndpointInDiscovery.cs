using Microsoft.AspNetCore;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Aggregator.Sandbox.Authorization;

/// <summary>
/// The OpenID discovery document sends browsers to authorize where they reach the sandbox (<c>Sandbox:PublicBaseUrl</c>),
/// as the SMART configuration does; every other endpoint stays where the caller reached it.
/// </summary>
public sealed class BrowserAuthorizeEndpointInDiscovery(SandboxUrls urls) : IOpenIddictServerHandler<HandleConfigurationRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleConfigurationRequestContext>()
            .UseSingletonHandler<BrowserAuthorizeEndpointInDiscovery>()
            .SetOrder(OpenIddictServerHandlers.Discovery.AttachEndpoints.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(HandleConfigurationRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Transaction.GetHttpRequest() is { } request && context.AuthorizationEndpoint is not null)
        {
            context.AuthorizationEndpoint = new Uri($"{urls.BrowserRoot(request)}/oauth/authorize");
        }

        return ValueTask.CompletedTask;
    }
}
