using System.Text.Encodings.Web;
using System.Text.Json;
using Aggregator.Sandbox.FhirData;
using Aggregator.Sandbox.Personas;

namespace Aggregator.Sandbox.Fhir;

/// <summary>The one result every FHIR response is written by, in the media type of its FHIR version.</summary>
public sealed class FhirResult : IResult, IStatusCodeHttpResult
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly FhirVersion _version;
    private readonly Action<Utf8JsonWriter> _write;

    private FhirResult(int statusCode, FhirVersion version, Action<Utf8JsonWriter> write)
    {
        StatusCode = statusCode;
        _version = version;
        _write = write;
    }

    public int StatusCode { get; }

    int? IStatusCodeHttpResult.StatusCode => StatusCode;

    /// <summary>Extra response headers (ETag, Last-Modified, WWW-Authenticate, Retry-After).</summary>
    public Dictionary<string, string> Headers { get; } = new(StringComparer.OrdinalIgnoreCase);

    public static FhirResult Resource(FhirVersion version, StoredResource resource, int statusCode = StatusCodes.Status200OK)
    {
        var result = new FhirResult(statusCode, version, writer => writer.WriteRawValue(resource.Json, skipInputValidation: true));
        result.Headers["Last-Modified"] = resource.LastUpdated.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        return result;
    }

    public static FhirResult Json(FhirVersion version, Action<Utf8JsonWriter> write, int statusCode = StatusCodes.Status200OK) =>
        new(statusCode, version, write);

    /// <summary>An OperationOutcome with one issue; the same shape in DSTU2 and R4.</summary>
    public static FhirResult Outcome(FhirVersion version, int statusCode, string code, string diagnostics, string severity = "error") =>
        new(statusCode, version, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("resourceType", "OperationOutcome");
            writer.WriteStartArray("issue");
            writer.WriteStartObject();
            writer.WriteString("severity", severity);
            writer.WriteString("code", code);
            writer.WriteString("diagnostics", diagnostics);
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteEndObject();
        });

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCode;
        response.ContentType = $"{_version.MediaType()}; charset=utf-8";
        foreach (var (name, value) in Headers)
        {
            response.Headers[name] = value;
        }

        await using (var writer = new Utf8JsonWriter(response.BodyWriter, WriterOptions))
        {
            _write(writer);
        }

        await response.BodyWriter.FlushAsync(httpContext.RequestAborted);
    }
}
