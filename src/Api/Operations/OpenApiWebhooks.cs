using Aggregator.Api.Events;
using Aggregator.Api.Fhir;
using Aggregator.Api.Webhooks;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Aggregator.Api.Operations;

/// <summary>
/// The document's <c>webhooks</c> (what a tenant's webhook url receives, signed per Standard Webhooks) and the
/// schemas referenced only from descriptions: the events stream's data and the FHIR OperationOutcome.
/// </summary>
internal static class OpenApiWebhooks
{
    private static readonly (string Event, string OperationId, string Summary, Type Payload)[] Webhooks =
    [
        ("sync.finished", "onSyncFinished", "A sync run ended; the record may have a new version", typeof(SyncFinishedWebhook)),
        ("connection.reauth_required", "onConnectionReauthRequired", "The provider no longer accepts the connection's grant: the patient must reconnect", typeof(ConnectionReauthRequiredWebhook)),
        ("connection.refresh_expiring", "onConnectionRefreshExpiring", "A connection's refresh token expires soon (once per expiry): ask the patient to reconnect", typeof(ConnectionRefreshExpiringWebhook)),
        ("link_session.expired", "onLinkSessionExpired", "A hosted Connect session ran out before Done or Cancel", typeof(LinkSessionExpiredWebhook)),
        ("record.updated", "onRecordUpdated", "The patient's merged record has a new version", typeof(RecordUpdatedWebhook)),
        ("patient.deleted", "onPatientDeleted", "A patient was deleted with everything stored for them", typeof(PatientDeletedWebhook)),
    ];

    /// <summary>The data of each event of a patient's stream.</summary>
    public static readonly Type[] EventData =
    [
        typeof(ConnectionUpdatedEvent), typeof(SyncProgressEvent), typeof(SyncFinishedEvent), typeof(RecordUpdatedEvent), typeof(ResetEvent),
    ];

    private static readonly Type[] Referenced = [typeof(FhirOperationOutcome), typeof(Records.Schemas.MeasuredQuantity), .. EventData];

    public static async Task Describe(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        var components = document.Components ??= new OpenApiComponents();
        components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        foreach (var type in Referenced.Concat(Webhooks.Select(w => w.Payload)))
        {
            components.Schemas[type.Name] = await context.GetOrCreateSchemaAsync(type, cancellationToken: cancellationToken);
        }

        document.Webhooks ??= new Dictionary<string, IOpenApiPathItem>();
        foreach (var (name, operationId, summary, payload) in Webhooks)
        {
            document.Webhooks[name] = new OpenApiPathItem
            {
                Operations = new Dictionary<HttpMethod, OpenApiOperation>
                {
                    [HttpMethod.Post] = new()
                    {
                        OperationId = operationId,
                        Summary = summary,
                        Description = $"POSTed to the tenant's webhook url as `{{ \"type\": \"{name}\", \"timestamp\", \"data\" }}`. Verify the signature before trusting it; de-duplicate by `webhook-id` (the same on every retry). Anything but a 2xx is retried (30 s, 2 min, 10 min, 1 h, 6 h, 24 h).",
                        Tags = new HashSet<OpenApiTagReference> { new("Webhooks", document) },
                        Parameters =
                        [
                            Header("webhook-id", "The event's id: the same on every retry of it."),
                            Header("webhook-timestamp", "Unix seconds when this attempt was signed."),
                            Header("webhook-signature", "`v1,` + base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` with the tenant's `whsec_` secret (Standard Webhooks)."),
                        ],
                        RequestBody = new OpenApiRequestBody
                        {
                            Required = true,
                            Content = new Dictionary<string, OpenApiMediaType>
                            {
                                ["application/json"] = new() { Schema = new OpenApiSchemaReference(payload.Name, document) },
                            },
                        },
                        Responses = new OpenApiResponses
                        {
                            ["2XX"] = new OpenApiResponse { Description = "Received: the event is not sent again." },
                        },
                    },
                },
            };
        }
    }

    private static OpenApiParameter Header(string name, string description) => new()
    {
        Name = name,
        In = ParameterLocation.Header,
        Required = true,
        Description = description,
        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
    };
}
