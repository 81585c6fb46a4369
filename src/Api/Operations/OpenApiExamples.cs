using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Aggregator.Api.Operations;

/// <summary>
/// Examples in the OpenAPI document, taken from a run of the demo (sandbox data, shortened):
/// <c>openapi-examples.json</c> maps <c>METHOD /path</c> to a request and a response example (and
/// error examples by status). Endpoints that write pre-rendered JSON get their response described here.
/// </summary>
internal static partial class OpenApiExamples
{
    private static readonly Lazy<JsonObject> Examples = new(() =>
    {
        using var stream = typeof(OpenApiExamples).Assembly.GetManifestResourceStream("Aggregator.Api.Operations.openapi-examples.json")
            ?? throw new InvalidOperationException("The OpenAPI examples are not embedded.");
        return JsonNode.Parse(stream)!.AsObject();
    });

    public static Task Apply(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        // The route template without its constraints ({patientId:guid} → {patientId}), as the document's paths show it.
        var key = $"{context.Description.HttpMethod} /{Constraint().Replace(context.Description.RelativePath ?? "", "}").TrimEnd('/')}";
        if (Examples.Value[key] is not JsonObject example)
        {
            return Task.CompletedTask;
        }

        var mediaType = key.Contains(" /fhir/", StringComparison.Ordinal) ? "application/fhir+json" : "application/json";
        operation.Responses ??= [];
        if (example["response"] is { } response)
        {
            Describe(operation.Responses, example["status"]?.GetValue<string>() ?? "200", mediaType, response);
        }

        if (example["errors"] is JsonObject errors)
        {
            foreach (var (status, problem) in errors)
            {
                // The FHIR view answers errors with OperationOutcomes; the REST API with problem details.
                Describe(operation.Responses, status, mediaType == "application/fhir+json" ? mediaType : "application/problem+json", problem!);
            }
        }

        if (example["request"] is { } request && operation.RequestBody is OpenApiRequestBody body && body.Content is { } content)
        {
            foreach (var media in content.Values)
            {
                media.Example = request.DeepClone();
            }
        }

        return Task.CompletedTask;
    }

    [GeneratedRegex(@":[^}]+\}")]
    private static partial Regex Constraint();

    private static void Describe(OpenApiResponses responses, string status, string mediaType, JsonNode example)
    {
        if (!responses.TryGetValue(status, out var existing) || existing is not OpenApiResponse response)
        {
            response = new OpenApiResponse { Description = status.StartsWith('2') ? "Success" : "Problem" };
            responses[status] = response;
        }

        response.Content ??= new Dictionary<string, OpenApiMediaType>();
        if (!response.Content.TryGetValue(mediaType, out var media))
        {
            media = new OpenApiMediaType();
            response.Content[mediaType] = media;
        }

        media.Example = example.DeepClone();
    }
}
