using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Aggregator.Sandbox.Authorization;

/// <summary>
/// SMART's introspection response (App Launch 2, "Token Introspection") carries the granted <c>scope</c> and the
/// launch <c>patient</c> of an active token; OpenIddict shows them only to resource servers named in the audience.
/// </summary>
public sealed class SmartIntrospection : IOpenIddictServerHandler<HandleIntrospectionRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleIntrospectionRequestContext>()
            .UseSingletonHandler<SmartIntrospection>()
            .SetOrder(int.MaxValue - 100_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(HandleIntrospectionRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.IsRejected || context.GenericTokenPrincipal is not { } principal)
        {
            return ValueTask.CompletedTask;
        }

        context.Scopes.UnionWith(principal.GetScopes());
        if (principal.GetClaim(OAuthEndpoints.PatientClaim) is { Length: > 0 } patient)
        {
            context.Claims[OAuthEndpoints.PatientClaim] = patient;
        }

        return ValueTask.CompletedTask;
    }
}
