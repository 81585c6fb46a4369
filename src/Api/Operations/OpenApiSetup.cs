using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Aggregator.Api.Operations;

/// <summary>The OpenAPI document: what the service is, and how every call authenticates.</summary>
public static class OpenApiSetup
{
    public const string BearerScheme = "bearer";

    public static IServiceCollection AddApiDocument(this IServiceCollection services) =>
        services.AddOpenApi(options => options.AddDocumentTransformer(Describe).AddOperationTransformer(OpenApiExamples.Apply));

    private static Task Describe(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Aggregator API",
            Version = "v1",
            Description = "One merged, source-attributed health record per patient, pulled from every provider the patient connects through SMART on FHIR. "
                + "Partner backends authenticate with a tenant API key; companion frontends with a short-lived patient session token. "
                + "Errors are RFC 9457 problem details with a stable `type`.",
        };
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "A tenant API key (`agg_test_…` / `agg_live_…`) or a patient session token (`aggs_…`).",
        };
        document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] }];
        return Task.CompletedTask;
    }
}
