using Microsoft.AspNetCore.Http.Extensions;
using System.Globalization;
using Aggregator.Sandbox.Fhir;
using Aggregator.Sandbox.Personas;
using Aggregator.Sandbox.Traffic;

namespace Aggregator.Sandbox.Faults;

/// <summary>
/// Runs before every FHIR read and search (not <c>/metadata</c>): counts the request for its persona and the patient
/// its token names, adds injected latency, and answers 429 or 5xx instead of the server when a fault says so.
/// </summary>
public sealed class FhirFaultFilter(FaultInjector faults, RequestCounter counter, PersonaCatalog personas, TimeProvider time) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.HttpContext;
        if (http.GetRouteValue("persona") is not string persona || http.GetRouteValue("version") is not string version
            || !personas.TryGetBase(persona, version, out var fhirBase))
        {
            return await next(context);
        }

        var patientId = AccessTokenPatient.Of(http.Request);
        counter.Count(fhirBase.Persona.Name, patientId, CountedRequest.Fhir);
        // Until the answer is written: a client's requests at once are what it keeps open, its answers' bodies included.
        http.Response.RegisterForDispose(counter.Underway(fhirBase.Persona.Name, fhirBase.Version, patientId));
        var planned = faults.BeforeRequest(fhirBase.Persona.Name, fhirBase.Version, patientId);
        if (planned.Delay > TimeSpan.Zero)
        {
            await Task.Delay(planned.Delay, time, http.RequestAborted);
        }

        return planned.Failure switch
        {
            null => await next(context),
            { Kind: FaultKind.EndlessBody } => new MisbehavingBody(TimeSpan.Zero),
            { Kind: FaultKind.SlowBody } fault => new MisbehavingBody(TimeSpan.FromMilliseconds(fault.LatencyMs ?? 1000)),
            { Kind: FaultKind.Redirect } => Results.Redirect(http.Request.GetEncodedPathAndQuery()),
            { } failure => Answer(failure, fhirBase.Version),
        };
    }

    /// <summary>A 200 whose JSON body never ends: at full speed, or a few bytes every <c>pause</c>.</summary>
    private sealed class MisbehavingBody(TimeSpan pause) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.ContentType = "application/fhir+json";
            var aborted = httpContext.RequestAborted;
            var chunk = new byte[pause > TimeSpan.Zero ? 16 : 64 * 1024];
            Array.Fill(chunk, (byte)' ');
            try
            {
                await httpContext.Response.Body.WriteAsync("{\"resourceType\":\"Bundle\",\"padding\":\""u8.ToArray(), aborted);
                while (!aborted.IsCancellationRequested)
                {
                    await httpContext.Response.Body.WriteAsync(chunk, aborted);
                    await httpContext.Response.Body.FlushAsync(aborted);
                    if (pause > TimeSpan.Zero)
                    {
                        await Task.Delay(pause, aborted);
                    }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException)
            {
                // The client hung up: what this fault is for.
            }
        }
    }

    private FhirResult Answer(Fault fault, FhirVersion version)
    {
        FhirResult result;
        if (fault.Kind == FaultKind.RateLimit)
        {
            result = FhirResult.Outcome(version, StatusCodes.Status429TooManyRequests, "throttled", "Too many requests; retry after the time given.");
            result.Headers["Retry-After"] = RetryAfter(fault);
        }
        else
        {
            result = FhirResult.Outcome(version, fault.Status, fault.Status == StatusCodes.Status503ServiceUnavailable ? "transient" : "exception",
                "The server failed to process the request (injected fault).");
            if (fault.RetryAfterSeconds > 0)
            {
                result.Headers["Retry-After"] = RetryAfter(fault);
            }
        }

        return result;
    }

    private string RetryAfter(Fault fault) => fault.RetryAfterDate
        ? time.GetUtcNow().AddSeconds(fault.RetryAfterSeconds).ToString("R", CultureInfo.InvariantCulture)
        : fault.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
}
