using System.Text.Json;
using System.Text.Json.Nodes;
using Aggregator.IntegrationTests.Infrastructure;

namespace Aggregator.IntegrationTests.Foundation;

/// <summary>
/// The committed contract, <c>openapi/aggregator-v1.json</c>: the OpenAPI document the Api serves, with the server
/// (which depends on where it runs) set to the run command's. Partners and our own web app generate their clients from it.
/// </summary>
public static class ApiContract
{
    public static string FilePath => Path.Combine(RepositoryPaths.Root, "openapi", "aggregator-v1.json");

    /// <summary>The served document as the contract file holds it: indented, with the run command's local server.</summary>
    public static string Normalize(string served)
    {
        var document = JsonNode.Parse(served)!.AsObject();
        document["servers"] = new JsonArray(new JsonObject
        {
            ["url"] = "http://127.0.0.1:5080",
            ["description"] = "The Api that ./run.sh starts; use your deployment's url",
        });
        return document.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }
}
