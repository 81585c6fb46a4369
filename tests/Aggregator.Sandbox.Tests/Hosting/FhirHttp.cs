using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aggregator.Sandbox.Tests.Hosting;

/// <summary>What a FHIR client does in these tests: GET JSON, follow <c>next</c> links.</summary>
public static class FhirHttp
{
    public static async Task<JsonObject> GetJsonAsync(this HttpClient client, Uri url, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await client.GetAsync(url, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == expected, $"GET {url} answered {(int)response.StatusCode}, expected {(int)expected}: {body}");
        return JsonNode.Parse(body)!.AsObject();
    }

    /// <summary>Runs a search and follows every <c>next</c> link; returns the pages.</summary>
    public static async Task<List<JsonObject>> SearchAllPagesAsync(this HttpClient client, Uri url)
    {
        var pages = new List<JsonObject>();
        Uri? next = url;
        while (next is not null)
        {
            var page = await client.GetJsonAsync(next);
            Assert.Equal("searchset", (string?)page["type"]);
            pages.Add(page);
            next = NextLink(page);
            Assert.True(pages.Count < 1000, "Paging does not end.");
        }

        return pages;
    }

    public static Uri? NextLink(JsonObject bundle) =>
        (bundle["link"] as JsonArray ?? [])
            .Where(l => (string?)l!["relation"] == "next")
            .Select(l => new Uri((string)l!["url"]!))
            .FirstOrDefault();

    /// <summary>The resources a bundle matched (not the included ones).</summary>
    public static IEnumerable<JsonObject> Matches(this JsonObject bundle) =>
        (bundle["entry"] as JsonArray ?? [])
            .Select(e => e!.AsObject())
            .Where(e => (string?)e["search"]?["mode"] is null or "match")
            .Select(e => e["resource"]!.AsObject());

    public static IEnumerable<JsonObject> Included(this JsonObject bundle) =>
        (bundle["entry"] as JsonArray ?? [])
            .Select(e => e!.AsObject())
            .Where(e => (string?)e["search"]?["mode"] == "include")
            .Select(e => e["resource"]!.AsObject());

    public static string IssueCode(this JsonObject outcome)
    {
        Assert.Equal("OperationOutcome", (string?)outcome["resourceType"]);
        return (string)outcome["issue"]![0]!["code"]!;
    }

    public static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();
}
