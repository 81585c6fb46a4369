using Aggregator.Api.Authentication;
using Aggregator.Api.Fhir;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Aggregator.Api.Operations;

/// <summary>Marks a read that answers <c>ETag</c> and honours <c>If-None-Match</c> with 304.</summary>
public sealed class ConditionalReadMetadata;

/// <summary>Marks an endpoint that answers <c>text/event-stream</c>.</summary>
public sealed class EventStreamMetadata;

/// <summary>Marks an endpoint that answers a document's bytes in the document's own media type.</summary>
public sealed class BinaryContentMetadata;

/// <summary>Marks an endpoint that also answers NDJSON (<c>application/fhir+ndjson</c>) when asked.</summary>
public sealed class NdjsonMetadata;

public static class OpenApiEndpointConventions
{
    /// <summary>A FHIR Bundle, or with <c>Accept: application/fhir+ndjson</c> one resource per line.</summary>
    public static RouteHandlerBuilder ProducesFhirBundleOrNdjson(this RouteHandlerBuilder builder) =>
        builder.WithMetadata(new NdjsonMetadata()).Produces<Fhir.FhirBundle>(StatusCodes.Status200OK, "application/fhir+json");

    public static TBuilder HasConditionalReads<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ConditionalReadMetadata());

    public static RouteHandlerBuilder ProducesEventStream(this RouteHandlerBuilder builder) =>
        builder.WithMetadata(new EventStreamMetadata()).Produces<string>(StatusCodes.Status200OK, "text/event-stream");

    public static RouteHandlerBuilder ProducesBinaryContent(this RouteHandlerBuilder builder) =>
        builder.WithMetadata(new BinaryContentMetadata()).Produces<string>(StatusCodes.Status200OK, "application/octet-stream");

    /// <summary>A FHIR answer: FHIR JSON, or plain JSON when the client asks for it.</summary>
    public static RouteHandlerBuilder ProducesFhir<T>(this RouteHandlerBuilder builder) =>
        builder.Produces<T>(StatusCodes.Status200OK, "application/fhir+json", "application/json");
}

/// <summary>
/// Completes each operation's answers from what the endpoint is: the credential problems its policy can give,
/// 404 for a route with ids, 400/413/415 for a body, 400 for validated query parameters, cursor paging and
/// conditional reads as shared components, and the media types of streams, documents and the FHIR view.
/// </summary>
internal static class OperationAnswers
{
    public static Task Apply(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var description = context.Description;
        var metadata = description.ActionDescriptor.EndpointMetadata;
        var path = "/" + (description.RelativePath ?? "");
        var fhir = path.StartsWith(FhirEndpoints.Base, StringComparison.Ordinal);
        operation.Responses ??= [];

        // Every operation counts against a rate limit (the tenant's, or the address's without a credential).
        Problem(operation, "429");
        var anonymous = metadata.OfType<IAllowAnonymous>().Any();
        if (anonymous)
        {
            // Open to anyone (the OAuth callback, opening a link session, the FHIR metadata): no credential.
            operation.Security = [];
        }
        else
        {
            Problem(operation, "401");
            var policy = metadata.OfType<IAuthorizeData>().Select(a => a.Policy).LastOrDefault(p => p is not null);
            if (policy is not AuthenticationSetup.DirectoryPolicy)
            {
                Problem(operation, "403");
            }
        }

        if (OpenApiSetup.Credentials(metadata) is { } credentials)
        {
            operation.Description = string.IsNullOrEmpty(operation.Description) ? credentials : $"{operation.Description}\n\n{credentials}";
        }

        var hasPathIds = description.ParameterDescriptions.Any(p => p.Source == BindingSource.Path);
        if (hasPathIds)
        {
            if (fhir)
            {
                FhirProblem(operation, "404", "No such resource in a record this credential may read.");
            }
            else
            {
                Problem(operation, "404");
            }
        }

        if (operation.RequestBody is not null)
        {
            Problem(operation, "400");
            Problem(operation, "413");
            Problem(operation, "415");
        }
        else if (description.ParameterDescriptions.Any(p => p.Source == BindingSource.Query))
        {
            if (fhir)
            {
                FhirProblem(operation, "400", "A search parameter the view does not apply (unless `Prefer: handling=lenient`), or a malformed one.");
            }
            else
            {
                Problem(operation, "400");
            }
        }

        if (fhir)
        {
            FhirProblem(operation, "406", "The client accepts neither FHIR JSON nor JSON (XML is not served).");
        }

        SharePagingParameters(operation, context);
        if (metadata.OfType<ConditionalReadMetadata>().Any())
        {
            DescribeConditionalRead(operation, context);
        }

        if (metadata.OfType<EventStreamMetadata>().Any())
        {
            Content(operation, "200", "text/event-stream", new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Description = "Server-Sent Events: `id:` (the patient's event sequence), `event:` (`connection.updated`, `sync.progress`, `sync.finished`, `record.updated`, or `reset`), `data:` (JSON, one of the `*Event` schemas).",
                ContentMediaType = "text/event-stream",
                ContentSchema = new OpenApiSchema
                {
                    Description = "The `data:` of one event.",
                    OneOf = [.. OpenApiWebhooks.EventData.Select(type => (IOpenApiSchema)new OpenApiSchemaReference(type.Name, null))],
                },
            }, "The patient's events, as they happen.");
        }

        if (metadata.OfType<NdjsonMetadata>().Any() && operation.Responses!.TryGetValue("200", out var bundle) && bundle is OpenApiResponse { Content: { } bundleContent })
        {
            bundleContent["application/fhir+ndjson"] = new OpenApiMediaType
            {
                Schema = new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    Description = "Newline-delimited FHIR JSON: one resource per line, grouped by resource type.",
                },
            };
        }

        if (metadata.OfType<BinaryContentMetadata>().Any())
        {
            Content(operation, "200", "application/octet-stream", new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" },
                "The document's bytes, in its own media type: PDF, PNG, JPEG and plain text inline; anything else (HTML, SVG, XML, …) "
                + "as an attachment with `Content-Security-Policy: sandbox`, under the type the provider gave or `application/octet-stream`.");
            var bytes = ((OpenApiResponse)operation.Responses!["200"]).Content!;
            foreach (var inline in new[] { "application/pdf", "image/png", "image/jpeg", "text/plain" })
            {
                bytes[inline] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } };
            }
        }

        foreach (var (status, response) in operation.Responses.ToList())
        {
            if (response is OpenApiResponse { Description: null or "" } concrete)
            {
                concrete.Description = status switch
                {
                    "200" => "Success.",
                    "201" => "Created.",
                    "202" => "Accepted.",
                    "204" => "Done; nothing to return.",
                    "302" => "A redirect.",
                    _ => "See the body.",
                };
            }

            // An error the FHIR view answers (an example of it) is an OperationOutcome.
            if (response is OpenApiResponse { Content: { } fhirContent } && status.StartsWith('4') && fhirContent.TryGetValue("application/fhir+json", out var outcome) && outcome.Schema is null)
            {
                outcome.Schema = new OpenApiSchemaReference(nameof(FhirOperationOutcome), null);
            }

            // A problem an endpoint declares itself (ProducesProblem, or an example of it) takes the shared answer, or at least the shared shape.
            if (response is OpenApiResponse { Content: { } content } declared && content.TryGetValue("application/problem+json", out var media))
            {
                if (media.Example is null && OpenApiComponentsCatalog.Problems.TryGetValue(status, out var shared))
                {
                    operation.Responses[status] = new OpenApiResponseReference(shared.Name, null);
                }
                else
                {
                    media.Schema = new OpenApiSchemaReference(OpenApiComponentsCatalog.Problem, null);
                    if (declared.Description == "See the body." && OpenApiComponentsCatalog.Problems.TryGetValue(status, out var words))
                    {
                        declared.Description = words.Description;
                    }
                }
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>The shared error answer for <paramref name="status"/>, unless the operation already describes one.</summary>
    private static void Problem(OpenApiOperation operation, string status)
    {
        if (!operation.Responses!.ContainsKey(status))
        {
            operation.Responses[status] = new OpenApiResponseReference(OpenApiComponentsCatalog.Problems[status].Name, null);
        }
    }

    private static void FhirProblem(OpenApiOperation operation, string status, string description)
    {
        if (!operation.Responses!.ContainsKey(status))
        {
            operation.Responses[status] = new OpenApiResponse
            {
                Description = description,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/fhir+json"] = new() { Schema = new OpenApiSchemaReference(nameof(FhirOperationOutcome), null) },
                },
            };
        }
    }

    private static void Content(OpenApiOperation operation, string status, string mediaType, OpenApiSchema schema, string description)
    {
        if (!operation.Responses!.TryGetValue(status, out var existing) || existing is not OpenApiResponse response)
        {
            response = new OpenApiResponse();
            operation.Responses[status] = response;
        }

        response.Description = description;
        response.Content = new Dictionary<string, OpenApiMediaType> { [mediaType] = new() { Schema = schema } };
    }

    /// <summary>The <c>limit</c> and <c>cursor</c> query parameters of every list, as references to their one description.</summary>
    private static void SharePagingParameters(OpenApiOperation operation, OpenApiOperationTransformerContext context)
    {
        if (operation.Parameters is null)
        {
            return;
        }

        for (var i = 0; i < operation.Parameters.Count; i++)
        {
            if (operation.Parameters[i] is { In: ParameterLocation.Query, Name: "limit" or "cursor" } parameter
                && context.Description.ParameterDescriptions.Any(p => p.Name == parameter.Name && p.Source == BindingSource.Query))
            {
                operation.Parameters[i] = new OpenApiParameterReference(parameter.Name == "limit" ? OpenApiComponentsCatalog.Limit : OpenApiComponentsCatalog.Cursor, null);
            }
        }
    }

    private static void DescribeConditionalRead(OpenApiOperation operation, OpenApiOperationTransformerContext context)
    {
        operation.Parameters ??= [];
        operation.Parameters.Add(new OpenApiParameterReference(OpenApiComponentsCatalog.IfNoneMatch, null));
        if (operation.Responses!.TryGetValue("200", out var ok) && ok is OpenApiResponse response)
        {
            response.Headers ??= new Dictionary<string, IOpenApiHeader>();
            response.Headers["ETag"] = new OpenApiHeaderReference(OpenApiComponentsCatalog.ETag, null);
        }

        operation.Responses["304"] = new OpenApiResponseReference(OpenApiComponentsCatalog.NotModified, null);
    }
}
