using System.Diagnostics;
using Hangfire.Client;
using Hangfire.Server;

namespace Aggregator.Infrastructure.Observability;

/// <summary>
/// Hangfire has no tracing of its own: this filter carries the W3C <c>traceparent</c> of whatever queued a job (an API
/// request, another job) in a job parameter, and runs the job inside a span that continues that trace, in whichever
/// process performs it. A job queued outside any trace (a recurring one) starts its own.
/// </summary>
internal sealed class JobTracing : IClientFilter, IServerFilter
{
    public const string SourceName = "Aggregator.Jobs";
    private const string TraceParent = "traceparent";
    private const string TraceState = "tracestate";
    private const string SpanKey = "Aggregator.JobSpan";
    private static readonly ActivitySource Source = new(SourceName);

    public void OnCreating(CreatingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Activity.Current is { IdFormat: ActivityIdFormat.W3C } current)
        {
            context.SetJobParameter(TraceParent, current.Id);
            if (current.TraceStateString is { Length: > 0 } state)
            {
                context.SetJobParameter(TraceState, state);
            }
        }
    }

    public void OnCreated(CreatedContext context)
    {
    }

    public void OnPerforming(PerformingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var parent = context.GetJobParameter<string>(TraceParent);
        ActivityContext.TryParse(parent, context.GetJobParameter<string>(TraceState), isRemote: true, out var parentContext);
        var job = context.BackgroundJob.Job;
        var span = Source.StartActivity($"job {job.Type.Name}.{job.Method.Name}", ActivityKind.Consumer, parentContext);
        if (span is not null)
        {
            span.SetTag("messaging.system", "hangfire");
            span.SetTag("messaging.message.id", context.BackgroundJob.Id);
            span.SetTag("messaging.destination.name", context.GetJobParameter<string>("Queue") ?? "default");
            context.Items[SpanKey] = span;
        }
    }

    public void OnPerformed(PerformedContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Items.TryGetValue(SpanKey, out var value) && value is Activity span)
        {
            if (context.Exception is { } exception && !context.ExceptionHandled)
            {
                span.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
            }

            span.Dispose();
        }
    }
}
