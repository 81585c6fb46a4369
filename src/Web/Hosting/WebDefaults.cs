using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Http.Resilience;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace Aggregator.Web.Hosting;

/// <summary>What the web app needs around its pages: logs, security headers, antiforgery, health, errors.</summary>
public static class WebDefaults
{
    /// <summary>False (with a one-line reason on standard error) when a required setting is missing.</summary>
    public static bool AddWebDefaults(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Configuration.GetSection(WebOptions.Section).Get<WebOptions>() ?? new WebOptions();
        if (options.ApiBaseUrl is null || !options.ApiBaseUrl.IsAbsoluteUri)
        {
            Console.Error.WriteLine("No Api configured: set Web__ApiBaseUrl to the Api's root url (e.g. http://127.0.0.1:5080), or start everything with ./run.sh.");
            return false;
        }

        builder.Services.AddOptions<WebOptions>().Bind(builder.Configuration.GetSection(WebOptions.Section));
        var development = builder.Environment.IsDevelopment();
        // Each host its own logger (not the process-wide static one, which the last host built would own): tests run
        // several hosts in one process, and each must see its own events.
        builder.Services.AddSerilog((services, log) =>
        {
            log.MinimumLevel.Information()
                .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
                .MinimumLevel.Override("Microsoft.Extensions.Http", LogEventLevel.Warning)
                .MinimumLevel.Override("System.Net.Http", LogEventLevel.Warning)
                .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Information)
                .ReadFrom.Configuration(builder.Configuration)
                // After the configuration, so that no setting turns them back on: the framework's "Request starting" line
                // carries the query string (a link token, a session token), its redirect results log their destination
                // (a return url with its result code), and the HttpClient logs name the Api urls it calls (event
                // tickets). Our request log (path only) replaces the first two.
                .MinimumLevel.Override("Microsoft.AspNetCore.Hosting.Diagnostics", LogEventLevel.Warning)
                .MinimumLevel.Override("Microsoft.AspNetCore.Http.Result", LogEventLevel.Warning)
                .MinimumLevel.Override("System.Net.Http.HttpClient", LogEventLevel.Warning)
                // Sinks registered as services join the pipeline (tests capture every event this way).
                .ReadFrom.Services(services)
                .Enrich.FromLogContext()
                .Enrich.WithProperty("Application", builder.Environment.ApplicationName);
            if (development)
            {
                log.WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}");
            }
            else
            {
                log.WriteTo.Console(new RenderedCompactJsonFormatter());
            }
        }, preserveStaticLogger: true);
        builder.Services.AddAntiforgery(antiforgery =>
        {
            antiforgery.Cookie.Name = "agg_af";
            antiforgery.Cookie.SameSite = SameSiteMode.Strict;
        });
        builder.Services.AddHealthChecks().AddCheck<ApiReachableCheck>("api", tags: ["ready"]);
        // Retries for reads only: a retried POST could spend a single-use token or start a login twice.
        builder.Services.ConfigureHttpClientDefaults(http => http.AddStandardResilienceHandler(resilience => resilience.Retry.DisableForUnsafeHttpMethods()));
        return true;
    }

    public static WebApplication UseWebDefaults(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // The request path only: query strings (link tokens, session tokens) never reach a log.
        app.UseSerilogRequestLogging(options => options.GetLevel = (context, _, _) =>
            context.Response.StatusCode >= 500 ? LogEventLevel.Error
            : context.Request.Path.StartsWithSegments("/health") ? LogEventLevel.Verbose
            : LogEventLevel.Information);
        app.UseMiddleware<SecurityHeaders>();
        app.UseExceptionHandler("/error", createScopeForErrors: true);
        app.UseStatusCodePagesWithReExecute("/error", "?status={0}");
        app.UseAntiforgery();
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains("ready"),
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status200OK,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
        });
        return app;
    }
}
