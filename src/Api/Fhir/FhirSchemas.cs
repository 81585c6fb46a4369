using System.Text.Json;
using System.Text.Json.Serialization;

namespace Aggregator.Api.Fhir;

// The FHIR view's answers, for the OpenAPI document: FHIR R4 JSON as the specification defines it. Only the
// elements a client navigates by are named; every other element of the resource is kept (additional properties).

/// <summary>Any FHIR R4 resource: its type and id named, every other element as FHIR defines it for that type.</summary>
public sealed record FhirResource(string ResourceType, string? Id)
{
    [JsonExtensionData]
    public IDictionary<string, JsonElement>? Elements { get; init; }
}

/// <summary>A FHIR R4 Bundle (<c>searchset</c> for searches and <c>$everything</c>, <c>collection</c> for exports).</summary>
public sealed record FhirBundle(string ResourceType, string Type, int? Total, IReadOnlyList<FhirBundleLink>? Link, IReadOnlyList<FhirBundleEntry>? Entry)
{
    [JsonExtensionData]
    public IDictionary<string, JsonElement>? Elements { get; init; }
}

public sealed record FhirBundleLink(string Relation, string Url);

/// <summary>A Bundle entry: the resource, and for searches whether it matched or came along (<c>include</c>).</summary>
public sealed record FhirBundleEntry(string? FullUrl, FhirResource Resource, FhirBundleSearch? Search);

public sealed record FhirBundleSearch(string Mode);

/// <summary>A FHIR R4 OperationOutcome: why the FHIR view refused a request.</summary>
public sealed record FhirOperationOutcome(string ResourceType, IReadOnlyList<FhirIssue> Issue);

public sealed record FhirIssue(string Severity, string Code, string? Diagnostics);

/// <summary>A FHIR R4 CapabilityStatement: what the FHIR view serves.</summary>
public sealed record FhirCapabilityStatement(string ResourceType, string Status, string Kind, string FhirVersion, IReadOnlyList<string> Format)
{
    [JsonExtensionData]
    public IDictionary<string, JsonElement>? Elements { get; init; }
}
