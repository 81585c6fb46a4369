using Microsoft.IdentityModel.JsonWebTokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Aggregator.Sandbox.Authorization;

/// <summary>
/// SMART asymmetric client authentication signs its assertion with <c>typ: JWT</c> and addresses it to the token
/// endpoint URL, as RFC 7523 clients always have; OpenIddict 7 expects <c>client-authentication+jwt</c> addressed
/// to the issuer. These two handlers accept the SMART form for client assertions alone (signature, issuer,
/// subject and lifetime are still verified against the client's registered JWKS) and give the validated
/// assertion its proper token type.
/// </summary>
public static class SmartClientAssertions
{
    private const string AcceptedMarker = "Aggregator.Sandbox:jwt-typed-client-assertion";

    public static OpenIddictServerHandlerDescriptor AcceptJwtType { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
            .UseSingletonHandler<AcceptJwtTypedAssertion>()
            .SetOrder(OpenIddictServerHandlers.Protection.ValidateIdentityModelToken.Descriptor.Order - 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public static OpenIddictServerHandlerDescriptor RestoreTokenType { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
            .UseSingletonHandler<RestoreAssertionTokenType>()
            .SetOrder(OpenIddictServerHandlers.Protection.ValidatePrincipal.Descriptor.Order - 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    private static bool ExpectsClientAssertion(ValidateTokenContext context) =>
        context.ValidTokenTypes.Contains(OpenIddictConstants.TokenTypeIdentifiers.Private.ClientAssertion);

    public sealed class AcceptJwtTypedAssertion : IOpenIddictServerHandler<ValidateTokenContext>
    {
        public ValueTask HandleAsync(ValidateTokenContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            if (!ExpectsClientAssertion(context) || context.TokenValidationParameters is not { } parameters
                || string.IsNullOrEmpty(context.Token))
            {
                return ValueTask.CompletedTask;
            }

            // RFC 7523 §3 and SMART: the token endpoint URL is a valid audience.
            if (context.BaseUri is { } root)
            {
                foreach (var endpoint in context.Options.TokenEndpointUris)
                {
                    var absolute = endpoint.IsAbsoluteUri ? endpoint : new Uri(root, endpoint.OriginalString);
                    context.ValidAudiences.Add(absolute.AbsoluteUri);
                    context.ValidAudiences.Add(absolute.AbsoluteUri.TrimEnd('/') + "/");
                }
            }

            JsonWebToken token;
            try
            {
                token = new JsonWebToken(context.Token);
            }
            catch (ArgumentException)
            {
                return ValueTask.CompletedTask;
            }

            // Only the generic types: an assertion typed as anything else (an access token...) is still refused.
            var type = token.Typ;
            if (string.IsNullOrEmpty(type) || string.Equals(type, "JWT", StringComparison.OrdinalIgnoreCase)
                || string.Equals(type, "application/jwt", StringComparison.OrdinalIgnoreCase))
            {
                parameters.ValidTypes = null;
                context.Transaction.Properties[AcceptedMarker] = true;
            }

            return ValueTask.CompletedTask;
        }
    }

    public sealed class RestoreAssertionTokenType : IOpenIddictServerHandler<ValidateTokenContext>
    {
        public ValueTask HandleAsync(ValidateTokenContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            if (context.Principal is { } principal && ExpectsClientAssertion(context)
                && context.Transaction.Properties.Remove(AcceptedMarker))
            {
                principal.SetTokenType(OpenIddictConstants.TokenTypeIdentifiers.Private.ClientAssertion);
            }

            return ValueTask.CompletedTask;
        }
    }
}
