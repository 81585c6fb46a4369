using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Aggregator.Api.Operations;

/// <summary>
/// What the document describes once and every operation references: the problem details shape and the error
/// answers built on it, the cursor-paging parameters, and the conditional-read parameter and header.
/// </summary>
internal static class OpenApiComponentsCatalog
{
    public const string Problem = "Problem";
    public const string Limit = "Limit";
    public const string Cursor = "Cursor";
    public const string IfNoneMatch = "IfNoneMatch";
    public const string ETag = "ETag";
    public const string NotModified = "NotModified";

    /// <summary>The error answers by status: (component name, description).</summary>
    public static readonly IReadOnlyDictionary<string, (string Name, string Description)> Problems = new Dictionary<string, (string, string)>
    {
        ["400"] = ("BadRequest", "The request is not valid (a missing or malformed field, an unknown filter value, a cursor we did not issue)."),
        ["401"] = ("Unauthorized", "No credential, or one that is unknown, revoked or expired (with a `WWW-Authenticate: Bearer` challenge)."),
        ["403"] = ("Forbidden", "This kind of credential may not make this call."),
        ["404"] = ("NotFound", "Nothing with this id for this credential (another tenant's or another patient's ids read as missing, too)."),
        ["409"] = ("Conflict", "The resource is not in a state that allows this (for example a connection that is not active)."),
        ["413"] = ("PayloadTooLarge", "The request body is over 1 MB."),
        ["415"] = ("UnsupportedMediaType", "The request body is not JSON."),
        ["429"] = ("TooManyRequests", "Over the tenant's requests per second (`RateLimits:PerTenantPerSecond`, 200 by default), or the address's without a valid credential (20): retry after `Retry-After` seconds."),
        ["502"] = ("BadGateway", "The provider could not be reached or answered badly."),
        ["503"] = ("ServiceUnavailable", "A dependency is not available or not configured."),
    };

    public static Task Add(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        var components = document.Components ??= new OpenApiComponents();
        components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        components.Schemas[Problem] = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "An RFC 9457 problem detail. `type` is stable (`urn:aggregator:problem:…`): switch on it, not on `title`.",
            Required = new HashSet<string> { "type", "title", "status" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Stable problem type, e.g. `urn:aggregator:problem:not-found`." },
                ["title"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" },
                ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null },
                ["instance"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null },
                ["traceId"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The request's id in our logs; quote it to support." },
            },
        };

        components.Responses ??= new Dictionary<string, IOpenApiResponse>();
        foreach (var (status, (name, description)) in Problems)
        {
            components.Responses[name] = new OpenApiResponse
            {
                Description = description,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference(Problem, document) },
                },
                Headers = status == "429"
                    ? new Dictionary<string, IOpenApiHeader>
                    {
                        ["Retry-After"] = new OpenApiHeader { Description = "Seconds to wait before retrying.", Schema = new OpenApiSchema { Type = JsonSchemaType.Integer } },
                    }
                    : null,
            };
        }

        components.Responses[NotModified] = new OpenApiResponse { Description = "The record has not changed since the `ETag` given in `If-None-Match`." };

        components.Headers ??= new Dictionary<string, IOpenApiHeader>();
        components.Headers[ETag] = new OpenApiHeader
        {
            Description = "The version of what was read (weak). Send it back as `If-None-Match` to get 304 while nothing changed.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
        };

        components.Parameters ??= new Dictionary<string, IOpenApiParameter>();
        components.Parameters[Limit] = new OpenApiParameter
        {
            Name = "limit",
            In = ParameterLocation.Query,
            Description = "Page size: 50 when absent, at most 500 (larger values are clamped).",
            Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Minimum = "1", Maximum = "500", Default = JsonValue.Create(50) },
        };
        components.Parameters[Cursor] = new OpenApiParameter
        {
            Name = "cursor",
            In = ParameterLocation.Query,
            Description = "The `nextCursor` of the previous page (opaque); absent for the first page. A cursor we did not issue, or issued for another list, is a 400 (`urn:aggregator:problem:invalid-cursor`).",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
        };
        components.Parameters[IfNoneMatch] = new OpenApiParameter
        {
            Name = "If-None-Match",
            In = ParameterLocation.Header,
            Description = "An `ETag` from an earlier answer: 304 while the record has not changed.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
        };
        return Task.CompletedTask;
    }
}
