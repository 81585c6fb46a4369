using Aggregator.Sandbox.Health;

namespace Aggregator.Sandbox.FhirData;

/// <summary>Loads the data folder in the background, so the process answers (503) while it loads.</summary>
public sealed partial class FhirDataLoading(FhirDataLoader loader, FhirStore store, SandboxReadiness readiness, ILogger<FhirDataLoading> logger)
    : BackgroundService
{
    public const string StepName = "FHIR data";

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            store.Publish(loader.Load(stoppingToken));
            readiness.Completed(StepName);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            LogFailed(logger, exception);
            readiness.Failed(StepName);
        }

        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Loading the FHIR data folder failed")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
