using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Aggregator.Sandbox.Authorization;

/// <summary>
/// RFC 7009 §2.1: revoking a refresh token also ends the grant behind it, so the access tokens issued under
/// that grant stop working too.
/// </summary>
public sealed class RevokeGrantWithRefreshToken(IOpenIddictAuthorizationManager authorizations, IOpenIddictTokenManager tokens)
    : IOpenIddictServerHandler<HandleRevocationRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleRevocationRequestContext>()
            .UseScopedHandler<RevokeGrantWithRefreshToken>()
            .SetOrder(OpenIddictServerHandlers.Revocation.RevokeToken.Descriptor.Order + 1_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(HandleRevocationRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.IsRejected || context.GenericTokenPrincipal is not { } principal
            || !principal.HasTokenType(OpenIddictConstants.TokenTypeIdentifiers.RefreshToken)
            || principal.GetAuthorizationId() is not { Length: > 0 } authorizationId)
        {
            return;
        }

        if (await authorizations.FindByIdAsync(authorizationId, context.CancellationToken) is { } authorization)
        {
            await authorizations.TryRevokeAsync(authorization, context.CancellationToken);
        }

        await tokens.RevokeByAuthorizationIdAsync(authorizationId, context.CancellationToken);
    }
}
