using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Aggregator.Sandbox.Authorization;

/// <summary>The OpenID discovery document names S256 only, the one PKCE method the portal accepts.</summary>
public sealed class OnlyS256InDiscovery : IOpenIddictServerHandler<HandleConfigurationRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleConfigurationRequestContext>()
            .UseSingletonHandler<OnlyS256InDiscovery>()
            .SetOrder(OpenIddictServerHandlers.Discovery.AttachCodeChallengeMethods.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(HandleConfigurationRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.CodeChallengeMethods.Remove(CodeChallengeMethods.Plain);
        return ValueTask.CompletedTask;
    }
}
