using System.Text.Json;
using Aggregator.Sandbox.FhirData;
using Aggregator.Sandbox.Personas;

namespace Aggregator.Sandbox.Fhir;

/// <summary>
/// <c>/metadata</c>: a CapabilityStatement (R4) or Conformance (DSTU2) listing what the base really serves,
/// with the SMART <c>oauth-uris</c> extension so DSTU2 clients can discover the authorization server.
/// </summary>
public static class CapabilityStatements
{
    public const string OAuthUrisExtension = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris";

    /// <param name="root">Where servers call the authorization server (token, revoke, introspect).</param>
    /// <param name="browserRoot">Where browsers are sent to authorize.</param>
    public static void Write(Utf8JsonWriter writer, FhirBase fhirBase, FhirDataset dataset, string baseUrl, string root, string browserRoot, DateTimeOffset now)
    {
        var version = fhirBase.Version;
        writer.WriteStartObject();
        writer.WriteString("resourceType", version == FhirVersion.R4 ? "CapabilityStatement" : "Conformance");
        writer.WriteString("status", "active");
        writer.WriteString("date", FhirDateTime.FormatInstant(now));
        writer.WriteString("publisher", "Aggregator Sandbox");
        writer.WriteString("kind", "instance");
        writer.WriteStartObject("software");
        writer.WriteString("name", $"Aggregator Sandbox ({fhirBase.Persona.Options.DisplayName})");
        writer.WriteEndObject();
        writer.WriteStartObject("implementation");
        writer.WriteString("description", $"{fhirBase.Persona.Options.DisplayName} {version.DisplayName()} Patient Access API");
        writer.WriteString("url", baseUrl);
        writer.WriteEndObject();
        writer.WriteString("fhirVersion", version.SpecificationVersion());
        if (version == FhirVersion.Dstu2)
        {
            writer.WriteString("acceptUnknown", "no");
        }

        writer.WriteStartArray("format");
        writer.WriteStringValue("json");
        writer.WriteStringValue(version.MediaType());
        writer.WriteEndArray();
        writer.WriteStartArray("rest");
        writer.WriteStartObject();
        writer.WriteString("mode", "server");
        WriteSecurity(writer, version, root, browserRoot);
        writer.WriteStartArray("resource");
        var searchable = FhirResourceTypes.SearchableTypes(version, dataset).ToHashSet(StringComparer.Ordinal);
        foreach (var type in FhirResourceTypes.ReadableTypes(version, dataset))
        {
            WriteResource(writer, type, searchable.Contains(type));
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteSecurity(Utf8JsonWriter writer, FhirVersion version, string root, string browserRoot)
    {
        writer.WriteStartObject("security");
        writer.WriteStartArray("extension");
        writer.WriteStartObject();
        writer.WriteString("url", OAuthUrisExtension);
        writer.WriteStartArray("extension");
        foreach (var (name, url) in new[]
        {
            ("authorize", $"{browserRoot}/oauth/authorize"), ("token", $"{root}/oauth/token"),
            ("revoke", $"{root}/oauth/revoke"), ("introspect", $"{root}/oauth/introspect"),
        })
        {
            writer.WriteStartObject();
            writer.WriteString("url", name);
            writer.WriteString("valueUri", url);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteBoolean("cors", true);
        writer.WriteStartArray("service");
        writer.WriteStartObject();
        writer.WriteStartArray("coding");
        writer.WriteStartObject();
        writer.WriteString("system", version == FhirVersion.R4
            ? "http://terminology.hl7.org/CodeSystem/restful-security-service"
            : "http://hl7.org/fhir/restful-security-service");
        writer.WriteString("code", "SMART-on-FHIR");
        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteString("text", "OAuth2 using SMART-on-FHIR profile (see http://docs.smarthealthit.org)");
        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteResource(Utf8JsonWriter writer, string type, bool searchable)
    {
        writer.WriteStartObject();
        writer.WriteString("type", type);
        writer.WriteStartArray("interaction");
        writer.WriteStartObject();
        writer.WriteString("code", "read");
        writer.WriteEndObject();
        if (searchable)
        {
            writer.WriteStartObject();
            writer.WriteString("code", "search-type");
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        if (searchable)
        {
            writer.WriteStartArray("searchParam");
            WriteSearchParam(writer, "_id", "token");
            WriteSearchParam(writer, "_lastUpdated", "date");
            foreach (var name in FhirResourceTypes.SearchParameters(type))
            {
                WriteSearchParam(writer, name, name == "patient" ? "reference" : "token");
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    private static void WriteSearchParam(Utf8JsonWriter writer, string name, string type)
    {
        writer.WriteStartObject();
        writer.WriteString("name", name);
        writer.WriteString("type", type);
        writer.WriteEndObject();
    }
}
