using Microsoft.AspNetCore.Authentication;

namespace Aggregator.Api.Authentication;

public static class AuthenticationSetup
{
    /// <summary>Policy for tenant-level calls (a partner backend's API key).</summary>
    public const string TenantPolicy = "tenant";

    /// <summary>Policy for calls a patient's frontend may also make (about its one patient).</summary>
    public const string PatientOrTenantPolicy = "patient-or-tenant";

    /// <summary>Policy for the directory: partners, patients' frontends and the hosted Connect page.</summary>
    public const string DirectoryPolicy = "directory";

    /// <summary>Policy for calls only a patient's session token makes (about itself).</summary>
    public const string SessionPolicy = "session";

    /// <summary>Policy for the hosted Connect page's own calls about its link session.</summary>
    public const string LinkSessionPolicy = "link-session";

    public static IServiceCollection AddApiAuthentication(this IServiceCollection services)
    {
        services.AddAuthentication(ApiCredentialsHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiCredentialsHandler>(ApiCredentialsHandler.SchemeName, null);
        // The policies name no scheme: the one scheme is the default, which the authentication middleware has already run
        // for the request, and the policies read its user. A policy that named the scheme had the authorization middleware
        // authenticate every request a second time (the handler's cached result, the claims transformation again, and a
        // merged copy of the principal).
        services.AddAuthorizationBuilder()
            .AddPolicy(TenantPolicy, policy => policy
                .RequireClaim(ApiClaims.ActorType, ApiClaims.ActorApiKey))
            .AddPolicy(PatientOrTenantPolicy, policy => policy
                .RequireClaim(ApiClaims.ActorType, ApiClaims.ActorApiKey, ApiClaims.ActorSession))
            .AddPolicy(DirectoryPolicy, policy => policy
                .RequireClaim(ApiClaims.ActorType, ApiClaims.ActorApiKey, ApiClaims.ActorSession, ApiClaims.ActorLinkSession))
            .AddPolicy(SessionPolicy, policy => policy
                .RequireClaim(ApiClaims.ActorType, ApiClaims.ActorSession))
            .AddPolicy(LinkSessionPolicy, policy => policy
                .RequireClaim(ApiClaims.ActorType, ApiClaims.ActorLinkSession));
        return services;
    }
}
