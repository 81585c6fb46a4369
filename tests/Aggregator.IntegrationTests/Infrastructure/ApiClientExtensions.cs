using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Aggregator.Domain.Tenants;
using Aggregator.Infrastructure.Tenants;
using Aggregator.Sandbox.Demo;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.IntegrationTests.Infrastructure;

public static class ApiClientExtensions
{
    /// <summary>Creates a tenant through the same service the CLI uses; returns a client that calls with its key.</summary>
    public static async Task<(HttpClient Client, IssuedApiKey Key)> CreateTenantClientAsync(this ApiFactory api, string name, params string[] returnUrls)
    {
        await using var scope = api.Services.CreateOperatorScope();
        var admin = scope.ServiceProvider.GetRequiredService<TenantAdministration>();
        var (_, key) = await admin.CreateTenantAsync(name, new TenantSettings(returnUrls, null, null), ApiKeyEnvironment.Test, CancellationToken.None);
        return (api.CreateClient().WithBearer(key.Key), key);
    }

    public static HttpClient WithBearer(this HttpClient client, string credential)
    {
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credential);
        return client;
    }

    public static async Task<JsonElement> PutPatientAsync(this HttpClient client, string externalId)
    {
        var response = await client.PutAsJsonAsync(new Uri($"/v1/patients/{Uri.EscapeDataString(externalId)}", UriKind.Relative), new { });
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Every item of a patient's record, every category and page, read as a partner reads them.</summary>
    public static Task<List<JsonElement>> AllItemsAsync(this HttpClient client, Guid patientId, bool includeRetracted = false) =>
        new AggregatorPartner(client).AllItemsAsync(patientId, includeRetracted, TestContext.Current.CancellationToken);

    /// <summary>Every source resource the record's items name (demographics and retracted items too), as <c>Type/id</c>, once per naming.</summary>
    public static async Task<List<string>> SourcesInRecordAsync(this HttpClient client, Guid patientId)
    {
        var demographics = await client.GetJsonAsync($"/v1/patients/{patientId}/record/demographics?limit=500");
        return (await client.AllItemsAsync(patientId, includeRetracted: true))
            .Concat(demographics.GetProperty("items").EnumerateArray())
            .SelectMany(i => i.GetProperty("sources").EnumerateArray())
            .Select(s => $"{s.GetProperty("resourceType").GetString()}/{s.GetProperty("resourceId").GetString()}")
            .ToList();
    }

    public static Task<JsonElement> GetJsonAsync(this HttpClient client, string path) =>
        client.GetFromJsonAsync<JsonElement>(new Uri(path, UriKind.Relative));
}
