using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aggregator.Sandbox.Faults;

/// <summary>
/// The broken copy of a resource the <c>malformed-resource</c> fault serves: still valid JSON with its
/// <c>resourceType</c> and <c>id</c>, but its <c>status</c> (or, for types without one, its <c>meta</c>) is the
/// number 42, which no FHIR parser accepts.
/// </summary>
public static class MalformedResource
{
    public static byte[] From(byte[] json)
    {
        var resource = JsonNode.Parse(json)!.AsObject();
        resource[resource.ContainsKey("status") ? "status" : "meta"] = 42;
        return JsonSerializer.SerializeToUtf8Bytes(resource);
    }
}
