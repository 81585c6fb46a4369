using Aggregator.Api.Authentication;
using Aggregator.Infrastructure.Connections;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace Aggregator.Api.Operations;

/// <summary>
/// The OpenAPI document partners generate clients from: what the service is, how every call authenticates, the
/// answers each operation can give (problem details described once and referenced), cursor paging and conditional
/// reads described once, the record's items typed per category, the events stream and the webhooks.
/// </summary>
public static class OpenApiSetup
{
    public const string BearerScheme = "bearer";

    private static readonly (string Name, string Description)[] Tags =
    [
        ("Patients", "A tenant's end users, registered by the tenant's own external id; patient session tokens for their frontends."),
        ("Providers", "The directory of provider endpoints (one entry per FHIR base) a patient can connect to."),
        ("Connections", "A patient's links to providers: the SMART standalone launch, its confirmation by result code, re-authorisation and disconnection."),
        ("Connect", "Aggregator Connect: hosted sessions in which a patient links providers on our page; the partner exchanges the result code."),
        ("Sync", "Keeping each connection's data current: manual syncs, sync runs with per-type counts, coverage per resource type."),
        ("Record", "The merged, de-duplicated, source-attributed record: summary, categories, items, timeline, lab trends, changes, documents."),
        ("Events", "A patient's live events as Server-Sent Events, resumable with Last-Event-ID."),
        ("Webhooks", "The tenant's outgoing webhook deliveries (the events themselves are described under `webhooks`)."),
        ("Audit", "Who read a patient's data, and when."),
        ("FHIR R4 view", "The same merged record as a read-only FHIR R4 server, with a Provenance per item."),
    ];

    public static IServiceCollection AddApiDocument(this IServiceCollection services) =>
        services.AddOpenApi(options => options
            .AddDocumentTransformer(Describe)
            .AddDocumentTransformer(OpenApiComponentsCatalog.Add)
            .AddDocumentTransformer(OpenApiWebhooks.Describe)
            .AddSchemaTransformer(OpenApiSchemas.Apply)
            .AddOperationTransformer(OpenApiExamples.Apply)
            .AddOperationTransformer(OperationAnswers.Apply)
            .AddDocumentTransformer(OpenApiSchemas.Complete));

    private static Task Describe(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Aggregator API",
            Version = "v1",
            Description = "One merged, source-attributed health record per patient, pulled from every provider the patient connects through SMART on FHIR. "
                + "Partner backends authenticate with a tenant API key; companion frontends with a short-lived patient session token; the hosted Connect page with its link-session credential. "
                + "Errors are RFC 9457 problem details with a stable `type` (the FHIR view answers OperationOutcomes). Lists page with opaque cursors.",
            License = new OpenApiLicense { Name = "Aggregator partner terms", Identifier = "LicenseRef-Aggregator-Partner-Terms" },
        };
        var publicBase = context.ApplicationServices.GetRequiredService<IOptions<ApiPublicOptions>>().Value.PublicBaseUrl;
        if (publicBase is not null)
        {
            document.Servers = [new OpenApiServer { Url = publicBase.AbsoluteUri.TrimEnd('/'), Description = "This server" }];
        }
        else
        {
            foreach (var server in document.Servers ?? [])
            {
                server.Url = server.Url?.TrimEnd('/');
            }
        }

        document.Tags = new HashSet<OpenApiTag>(Tags.Select(t => new OpenApiTag { Name = t.Name, Description = t.Description }));
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "A tenant API key (`agg_test_…` / `agg_live_…`), a patient session token (`aggs_…`), or the hosted Connect page's link-session credential (`aggls_…`). Each operation says which it takes.",
        };
        document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] }];
        return Task.CompletedTask;
    }

    /// <summary>Which credentials an endpoint takes, in words for its description.</summary>
    internal static string? Credentials(IEnumerable<object> metadata)
    {
        var policies = metadata.OfType<IAuthorizeData>().Select(a => a.Policy).Where(p => p is not null).ToList();
        return policies.LastOrDefault() switch
        {
            AuthenticationSetup.TenantPolicy => "Takes a tenant API key.",
            AuthenticationSetup.PatientOrTenantPolicy => "Takes a tenant API key, or the patient's own session token.",
            AuthenticationSetup.DirectoryPolicy => "Takes a tenant API key, a patient session token, or a link-session credential.",
            AuthenticationSetup.LinkSessionPolicy => "Takes the hosted Connect page's link-session credential (of this session).",
            AuthenticationSetup.SessionPolicy => "Takes a patient session token.",
            _ => null,
        };
    }
}
