using Aggregator.Infrastructure.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Aggregator.Infrastructure.Observability;

public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>How often the gauges' owner counts connections and queued jobs.</summary>
    public TimeSpan GaugeInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Record traces; on by itself when an OTLP endpoint is configured (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>).</summary>
    public bool? Traces { get; set; }
}

/// <summary>
/// OpenTelemetry for the Api and the Worker: metrics (ours, ASP.NET Core's, HttpClient's, the runtime's) served at
/// <c>/metrics</c> in Prometheus text format to operators; traces (requests, Hangfire jobs, provider calls, PostgreSQL
/// commands) exported over OTLP. Both also go over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
/// </summary>
public static class Telemetry
{
    public const string MetricsPath = "/metrics";

    private static readonly string[] AspNetCoreMeters =
        ["Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Diagnostics", "Microsoft.AspNetCore.RateLimiting"];

    public static IHostApplicationBuilder AddTelemetry(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration;
        builder.Services.AddOptions<TelemetryOptions>().Bind(configuration.GetSection(TelemetryOptions.Section));
        builder.Services.AddSingleton<AggregatorMetrics>();

        var otlp = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var traces = configuration.GetSection(TelemetryOptions.Section).GetValue<bool?>(nameof(TelemetryOptions.Traces)) ?? otlp;
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Environment.ApplicationName, serviceInstanceId: $"{Environment.MachineName}:{Environment.ProcessId}"))
            .WithMetrics(metrics =>
            {
                // ASP.NET Core's meters that operators read: its requests (the dashboard's), Kestrel's connections,
                // unhandled exceptions and rate-limit rejections. Not all it offers: its memory pool's (a counter update for
                // every block a response rents), authentication's, authorization's and routing's are recorded on every
                // request, and took some 5% of the Api's CPU on a cached page for figures nobody reads.
                metrics.AddMeter(AggregatorMetrics.MeterName)
                    .AddMeter(AspNetCoreMeters)
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddPrometheusExporter();
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            });
        if (traces)
        {
            // W3C trace context only, which .NET's HttpClient itself writes, as each handler's ActivityHeadersPropagator
            // says: the providers' and webhooks' handlers write none (ProviderHttpClients.NoTraceHeaders). With a
            // composite default (W3C and baggage) OpenTelemetry would write the headers itself, past that choice.
            OpenTelemetry.Sdk.SetDefaultTextMapPropagator(new OpenTelemetry.Context.Propagation.TraceContextPropagator());
            telemetry.WithTracing(tracing =>
            {
                tracing.AddSource(JobTracing.SourceName, SyncTracing.SourceName)
                    .AddAspNetCoreInstrumentation(options => options.Filter = http => !IsOperations(http.Request.Path))
                    .AddHttpClientInstrumentation(options => options.EnrichWithHttpRequestMessage = (span, request) =>
                    {
                        if (request.RequestUri is { } url)
                        {
                            span.SetTag("url.full", WithoutIdentifiers(url));
                        }
                    })
                    .AddNpgsql();
                if (otlp)
                {
                    tracing.AddOtlpExporter();
                }
            });
        }

        Jobs.ProcessJobFilters.AddOnce<JobTracing>();
        return builder;
    }

    /// <summary><c>/metrics</c> in Prometheus text format, for the operator only (HTTP Basic, as the jobs dashboard).</summary>
    public static IEndpointRouteBuilder MapOperatorMetrics(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var operators = endpoints.ServiceProvider.GetRequiredService<IOptions<OperatorOptions>>().Value;
        endpoints.MapPrometheusScrapingEndpoint(MetricsPath, meterProvider: null, configureBranchedPipeline: branch => branch.Use(async (http, next) =>
        {
            if (!operators.Admits(http))
            {
                http.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }

            await next(http);
        }), optionsName: null);
        return endpoints;
    }

    /// <summary>
    /// A provider's (or a webhook's) url as a span shows it: no query, and every path segment after the first FHIR type
    /// (a capitalised segment: <c>Patient</c>, <c>Observation</c>) as <c>{id}</c>, so that traces carry no provider
    /// patient id or search value.
    /// </summary>
    private static string WithoutIdentifiers(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var segments = url.AbsolutePath.Split('/');
        var typed = false;
        for (var i = 0; i < segments.Length; i++)
        {
            if (typed && segments[i].Length > 0)
            {
                segments[i] = "{id}";
            }
            else if (segments[i].Length > 0 && char.IsUpper(segments[i][0]))
            {
                typed = true;
            }
        }

        return $"{url.Scheme}://{url.Authority}{string.Join('/', segments)}";
    }

    /// <summary>Health probes and scrapes: frequent, uninteresting, left out of traces.</summary>
    private static bool IsOperations(PathString path) =>
        path.StartsWithSegments("/health") || path.StartsWithSegments(MetricsPath);
}
