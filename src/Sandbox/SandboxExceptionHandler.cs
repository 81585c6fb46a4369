using Aggregator.Sandbox.Fhir;
using Aggregator.Sandbox.Personas;
using Microsoft.AspNetCore.Diagnostics;

namespace Aggregator.Sandbox;

/// <summary>
/// The last line: an unexpected failure becomes an OperationOutcome on FHIR paths, an OAuth error on
/// OAuth paths and a problem document elsewhere. Never a stack trace.
/// </summary>
public sealed partial class SandboxExceptionHandler(IProblemDetailsService problemDetails, ILogger<SandboxExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        LogUnhandled(logger, httpContext.Request.Path, exception);
        var path = httpContext.Request.Path.Value ?? "";
        if (path.Contains("/fhir/", StringComparison.Ordinal))
        {
            var version = path.Contains("/fhir/dstu2", StringComparison.OrdinalIgnoreCase) ? FhirVersion.Dstu2 : FhirVersion.R4;
            await FhirResult.Outcome(version, 500, "exception", "The server failed to process the request.").ExecuteAsync(httpContext);
            return true;
        }

        if (path.StartsWith("/oauth/", StringComparison.Ordinal))
        {
            httpContext.Response.StatusCode = StatusCodes.Status400BadRequest;
            await httpContext.Response.WriteAsJsonAsync(
                new { error = "server_error", error_description = "The authorization server failed to process the request." },
                cancellationToken);
            return true;
        }

        httpContext.Response.StatusCode = StatusCodes.Status500InternalServerError;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Title = "The sandbox failed to process the request.", Type = "https://aggregator.example/problems/sandbox-error" },
        });
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled failure on {Path}")]
    private static partial void LogUnhandled(ILogger logger, PathString path, Exception exception);
}
