using Aggregator.Infrastructure.Observability;
using Aggregator.Infrastructure.Persistence;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace Aggregator.Infrastructure.Hosting;

/// <summary>What every Aggregator host shares: logs, errors, health, body limits, outgoing HTTP.</summary>
public static class ServiceDefaults
{
    private const string ReadyTag = "ready";

    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder, bool logToStandardError = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var development = builder.Environment.IsDevelopment();

        // Each host its own logger (not the process-wide static one, which the last host built would own): tests run
        // several hosts in one process, and each must see its own events.
        builder.Services.AddSerilog((services, log) =>
        {
            // Our defaults first; the "Serilog" configuration section may override any of them.
            log.MinimumLevel.Information()
                .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
                .MinimumLevel.Override("Microsoft.EntityFrameworkCore", LogEventLevel.Warning)
                .MinimumLevel.Override("Microsoft.Extensions.Http", LogEventLevel.Warning)
                .MinimumLevel.Override("System.Net.Http", LogEventLevel.Warning)
                .MinimumLevel.Override("Hangfire", LogEventLevel.Information)
                .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Information)
                .ReadFrom.Configuration(builder.Configuration)
                // After the configuration, so that no setting turns them back on: the framework's "Request starting" line
                // carries the query string (an OAuth callback's code and state), and its redirect results log their
                // destination (a return url with its result code). Our request log (path only) replaces both.
                .MinimumLevel.Override("Microsoft.AspNetCore.Hosting.Diagnostics", LogEventLevel.Warning)
                .MinimumLevel.Override("Microsoft.AspNetCore.Http.Result", LogEventLevel.Warning)
                // Sinks and enrichers registered as services join the pipeline (tests capture every event this way).
                .ReadFrom.Services(services)
                .Enrich.FromLogContext()
                .Enrich.WithProperty("Application", builder.Environment.ApplicationName);

            var errorLevel = logToStandardError ? LogEventLevel.Verbose : (LogEventLevel?)null;
            if (development)
            {
                log.WriteTo.Console(
                    outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}",
                    standardErrorFromLevel: errorLevel);
            }
            else
            {
                log.WriteTo.Console(new RenderedCompactJsonFormatter(), standardErrorFromLevel: errorLevel);
            }
        }, preserveStaticLogger: true);

        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var problem = context.ProblemDetails;
            // Replace the framework's generic RFC 9110 links with our stable types.
            if (problem.Type is null || problem.Type.StartsWith("https://tools.ietf.org/", StringComparison.Ordinal))
            {
                problem.Type = ProblemTypes.ForStatus(problem.Status ?? context.HttpContext.Response.StatusCode);
            }

            problem.Extensions["traceId"] = context.HttpContext.TraceIdentifier;
            // Exception details never reach a client, whatever the environment.
            problem.Extensions.Remove("exception");
            // Server-side failures say no more than their type, except a provider's failure: its detail is ours, written
            // for the partner (what the provider did wrong), and never carries the provider's own words.
            problem.Detail = problem.Status >= 500 && problem.Type != ProblemTypes.ProviderUnreachable ? null : problem.Detail;
        });
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();

        // X-Forwarded-For/-Proto are believed only from the proxies an operator names (ForwardedHeaders:KnownProxies,
        // addresses; ForwardedHeaders:KnownNetworks, CIDR ranges); from anyone else, or when none are named, they are
        // ignored, so that a caller cannot choose the address rate limits and logs see. The host is never taken from them.
        var forwarded = builder.Configuration.GetSection("ForwardedHeaders");
        builder.Services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var proxy in Values(forwarded.GetSection("KnownProxies")))
            {
                options.KnownProxies.Add(System.Net.IPAddress.Parse(proxy));
            }

            foreach (var network in Values(forwarded.GetSection("KnownNetworks")))
            {
                options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }

            if (options.KnownProxies.Count == 0 && options.KnownIPNetworks.Count == 0)
            {
                // With both lists empty the middleware would believe everyone: read no forwarded header at all.
                options.ForwardedHeaders = ForwardedHeaders.None;
            }
        });

        // Operators sign in to the jobs dashboard (Api) and /metrics (both hosts) alike.
        builder.Services.AddOptions<OperatorOptions>().Bind(builder.Configuration.GetSection(OperatorOptions.Section));
        builder.AddTelemetry();
        builder.Services.AddHealthChecks()
            .AddCheck<DatabaseReadinessCheck>("postgresql", tags: [ReadyTag]);

        builder.Services.ConfigureHttpClientDefaults(http => http.AddStandardResilienceHandler());

        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(
            kestrel => kestrel.Limits.MaxRequestBodySize = RequestBodyLimit.MaxBytes);

        return builder;
    }

    /// <summary>The middleware every host runs first: errors as problem details, request logs, body cap.</summary>
    public static WebApplication UseServiceDefaults(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseForwardedHeaders();
        // Outermost (but for the proxy's headers), so that it logs the status the client really got.
        app.UseSerilogRequestLogging(options => options.GetLevel = (context, _, _) =>
            context.Response.StatusCode >= 500 ? LogEventLevel.Error
            : context.Request.Path.StartsWithSegments("/health") ? LogEventLevel.Verbose
            : LogEventLevel.Information);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<RequestBodyLimit>();
        return app;
    }

    /// <summary>A list setting given as an array (<c>KnownProxies:0</c>, ...) or as one comma-separated value.</summary>
    private static IEnumerable<string> Values(Microsoft.Extensions.Configuration.IConfigurationSection section) =>
        (section.Value is { Length: > 0 } joined ? joined.Split(',') : section.GetChildren().Select(c => c.Value ?? ""))
            .Select(v => v.Trim()).Where(v => v.Length > 0);

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status200OK,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
        });
        return endpoints;
    }
}
