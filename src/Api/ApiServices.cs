using System.Text.Json;
using System.Text.Json.Serialization;
using Aggregator.Api.Authentication;
using Aggregator.Api.Auditing;
using Aggregator.Api.Connections;
using Aggregator.Api.Events;
using Aggregator.Api.Fhir;
using Aggregator.Api.Providers;
using Aggregator.Api.Records;
using Aggregator.Api.Sync;
using Aggregator.Api.Webhooks;
using Aggregator.Api.Operations;
using Aggregator.Api.Patients;
using Scalar.AspNetCore;

namespace Aggregator.Api;

public static class ApiServices
{
    public static IHostApplicationBuilder AddApiServices(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddApiDocument();
        builder.Services.AddApiAuthentication();
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
            // Numbers are numbers, in what we read and in what the document promises (not "number or numeric string").
            json.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
        });
        builder.Services.AddScoped<Fhir.FhirRecordReads>();
        builder.Services.AddApiRateLimits(builder.Configuration);
        return builder;
    }

    public static WebApplication MapApiEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // Authentication, then the rate limits (a request counts against its tenant, or else its address, even when it is
        // about to be refused: guessing keys is limited too), then authorization.
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.MapOpenApi();
        app.MapScalarApiReference("/docs");
        app.MapOperatorDashboard();
        app.MapServiceIndex();
        app.MapPatientEndpoints();
        app.MapProviderEndpoints();
        app.MapConnectionEndpoints();
        app.MapLinkSessionEndpoints();
        app.MapSyncEndpoints();
        app.MapRecordEndpoints();
        app.MapRecordFeedEndpoints();
        app.MapExportEndpoints();
        app.MapFhirEndpoints();
        app.MapAuditEndpoints();
        app.MapEventEndpoints();
        app.MapWebhookEndpoints();
        app.MapDemoPages();
        return app;
    }
}
