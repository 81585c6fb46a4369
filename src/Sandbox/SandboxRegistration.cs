using Aggregator.Sandbox.Authorization;
using Aggregator.Sandbox.Faults;
using Aggregator.Sandbox.Fhir;
using Aggregator.Sandbox.FhirData;
using Aggregator.Sandbox.Generator;
using Aggregator.Sandbox.Health;
using Aggregator.Sandbox.Personas;
using Aggregator.Sandbox.Traffic;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Aggregator.Sandbox;

public static class SandboxRegistration
{
    /// <summary>Registers the whole sandbox: personas, FHIR data and API, the authorization server, health.</summary>
    public static IServiceCollection AddSandbox(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SandboxOptions>().Bind(configuration.GetSection(SandboxOptions.SectionName))
            .Validate(o => o.PublicBaseUrl is null || o.BaseUrl is not null,
                "Sandbox:PublicBaseUrl needs Sandbox:BaseUrl (the root other servers call the sandbox at, and its issuer).")
            .ValidateOnStart();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<SandboxUrls>();
        services.AddSingleton<PersonaCatalog>();

        services.AddSingleton(new SandboxReadiness([FhirDataLoading.StepName, ClientRegistrations.StepName]));
        services.AddHealthChecks().AddCheck<ReadinessHealthCheck>("startup");

        services.AddSingleton<FhirStore>();
        services.AddSingleton<PeopleGenerator>();
        services.AddSingleton<FhirDataLoader>();
        services.AddHostedService<FhirDataLoading>();
        services.AddSingleton<PageLinks>();
        services.AddSingleton<FhirSearch>();
        services.AddSingleton<ResourceChanges>();

        services.AddSingleton<FaultInjector>();
        services.AddScoped<GrantFaults>();
        services.AddSingleton<RequestCounter>();
        services.AddSingleton<IssuedGrants>();

        services.AddSandboxOAuth();
        services.AddDataProtection().SetApplicationName("Aggregator.Sandbox");
        services.AddOptions<KeyManagementOptions>().Configure<OAuthStore, ILoggerFactory>((keys, store, loggers) =>
            keys.XmlRepository = store.KeyFolder is { } folder
                ? new FileSystemXmlRepository(new DirectoryInfo(folder), loggers)
                : new InMemoryXmlRepository());

        services.AddProblemDetails();
        services.AddExceptionHandler<SandboxExceptionHandler>();
        return services;
    }
}
