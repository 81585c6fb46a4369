using Microsoft.AspNetCore.Authentication;

namespace Aggregator.Api.Authentication;

public static class AuthenticationSetup
{
    /// <summary>Policy for tenant-level calls (a partner backend's API key).</summary>
    public const string TenantPolicy = "tenant";

    public static IServiceCollection AddApiAuthentication(this IServiceCollection services)
    {
        services.AddAuthentication(ApiCredentialsHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiCredentialsHandler>(ApiCredentialsHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(TenantPolicy, policy => policy
                .AddAuthenticationSchemes(ApiCredentialsHandler.SchemeName)
                .RequireClaim(ApiClaims.ActorType, ApiClaims.ActorApiKey));
        return services;
    }
}
