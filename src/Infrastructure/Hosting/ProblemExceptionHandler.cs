using Aggregator.Infrastructure.Paging;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;

namespace Aggregator.Infrastructure.Hosting;

/// <summary>
/// The one place an unhandled exception becomes a response: RFC 9457 problem details with a
/// stable type, never a stack trace, SQL or patient data, in every environment.
/// </summary>
internal sealed partial class ProblemExceptionHandler(
    IProblemDetailsService problems,
    ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title) = exception switch
        {
            InvalidCursorException => (StatusCodes.Status400BadRequest, "The cursor was not issued by this service for this list."),
            BadHttpRequestException bad => (bad.StatusCode, bad.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? "The request body is too large."
                : "The request could not be read."),
            Records.DatabaseBusyException => (StatusCodes.Status503ServiceUnavailable, "The service is busy: try again shortly."),
            OperationCanceledException when httpContext.RequestAborted.IsCancellationRequested => (499, "The client closed the request."),
            _ => (StatusCodes.Status500InternalServerError, "An unexpected error occurred."),
        };

        if (exception is Records.DatabaseBusyException)
        {
            // Expected under a load the replica's database slots cannot keep up with: no stack, and a time to come back.
            LogBusy(logger, httpContext.Request.Method, httpContext.GetEndpoint()?.DisplayName);
            httpContext.Response.Headers.RetryAfter = "1";
        }
        else if (status >= 500)
        {
            LogUnhandled(logger, exception, httpContext.Request.Method, httpContext.GetEndpoint()?.DisplayName);
        }

        httpContext.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = new ProblemDetails
            {
                Status = status,
                Title = title,
                Type = exception is InvalidCursorException ? ProblemTypes.InvalidCursor : ProblemTypes.ForStatus(status),
            },
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Every database slot for record reads stayed taken: answered 503 to {Method} {Endpoint}")]
    private static partial void LogBusy(ILogger logger, string method, string? endpoint);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception on {Method} {Endpoint}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string? endpoint);
}
