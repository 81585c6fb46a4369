using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Aggregator.Sandbox.Tests.Hosting;

namespace Aggregator.Domain.Tests.Fhir.Dstu2;

/// <summary>One resource of a DSTU2 sample bundle, named by its id or, lacking one, its fullUrl.</summary>
public sealed record SampleResource(string File, string? FullUrl, JsonObject Resource)
{
    public string Type => Resource["resourceType"]!.GetValue<string>();

    public string Name => Resource["id"]?.GetValue<string>() ?? FullUrl ?? "(no id, no fullUrl)";

    public override string ToString() => $"{File}: {Type}/{Name}";
}

/// <summary>
/// The shared DSTU2 samples (Synthea collection bundles and SMART transaction bundles), each file parsed once,
/// and the DSTU2 resources the team wrote for the types the samples lack (Examples/).
/// </summary>
public static class Dstu2Samples
{
    private static readonly ConcurrentDictionary<string, IReadOnlyList<SampleResource>> Parsed = new();

    public static IReadOnlyList<string> FileNames { get; } =
        FhirSamples.Files("dstu2").Select(path => Path.GetFileName(path)).ToList();

    public static IReadOnlyList<SampleResource> ResourcesIn(string fileName) =>
        Parsed.GetOrAdd(fileName, name =>
        {
            var bundle = JsonNode.Parse(File.ReadAllText(Path.Combine(FhirSamples.Directory, "dstu2", name)))!.AsObject();
            return bundle["entry"]!.AsArray()
                .Select(entry => new SampleResource(name, entry!["fullUrl"]?.GetValue<string>(), entry["resource"]!.AsObject()))
                .ToList();
        });

    public static IEnumerable<SampleResource> All => FileNames.SelectMany(ResourcesIn);

    /// <summary>A copy of the first sample resource of <paramref name="type"/> in a file that matches.</summary>
    public static JsonObject First(string fileName, string type, Func<JsonObject, bool>? where = null) =>
        ResourcesIn(fileName)
            .Where(sample => sample.Type == type && (where?.Invoke(sample.Resource) ?? true))
            .Select(sample => sample.Resource.DeepClone().AsObject())
            .First();

    /// <summary>A copy of a DSTU2 resource from Examples/ (the entry with <paramref name="id"/> when the file is a Bundle).</summary>
    public static JsonObject Example(string fileName, string? id = null)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fhir", "Dstu2", "Examples", fileName)))!.AsObject();
        return json["resourceType"]!.GetValue<string>() == "Bundle"
            ? json["entry"]!.AsArray().Select(entry => entry!["resource"]!.AsObject()).First(resource => resource["id"]!.GetValue<string>() == id).DeepClone().AsObject()
            : json;
    }
}
