using Aggregator.Sandbox.Fhir;
using Aggregator.Sandbox.FhirData;
using Aggregator.Sandbox.Health;
using Aggregator.Sandbox.Personas;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Options;

namespace Aggregator.Sandbox;

public static class SandboxRegistration
{
    /// <summary>Registers the whole sandbox: personas, FHIR data and API, health.</summary>
    public static IServiceCollection AddSandbox(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SandboxOptions>().Bind(configuration.GetSection(SandboxOptions.SectionName));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<PersonaCatalog>();

        services.AddSingleton(new SandboxReadiness([FhirDataLoading.StepName]));
        services.AddHealthChecks().AddCheck<ReadinessHealthCheck>("startup");

        services.AddSingleton<FhirStore>();
        services.AddSingleton<FhirDataLoader>();
        services.AddHostedService<FhirDataLoading>();
        services.AddSingleton<PageLinks>();
        services.AddSingleton<FhirSearch>();

        services.AddDataProtection().SetApplicationName("Aggregator.Sandbox");
        services.AddOptions<KeyManagementOptions>().Configure<IOptions<SandboxOptions>, ILoggerFactory>((keys, sandbox, loggers) =>
            keys.XmlRepository = sandbox.Value.StorePath is { Length: > 0 } storePath
                ? new FileSystemXmlRepository(new DirectoryInfo(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(storePath))!, "sandbox-keys")), loggers)
                : new InMemoryXmlRepository());

        services.AddProblemDetails();
        services.AddExceptionHandler<SandboxExceptionHandler>();
        return services;
    }
}
