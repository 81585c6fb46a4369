using System.Net;
using System.Text.Json;
using Aggregator.IntegrationTests.Infrastructure;

namespace Aggregator.IntegrationTests.Records;

/// <summary>The record across categories: timeline, lab trends, the change feed and document content.</summary>
public sealed class RecordFeedTests(PostgresServer server, SandboxProvider sandbox) : IAsyncLifetime
{
    private readonly TestDatabase _database = new(server);
    private ApiFactory _api = null!;
    private HttpClient _tenant = null!;
    private Guid _patientId;

    public async ValueTask InitializeAsync()
    {
        await _database.InitializeAsync();
        _api = ApiFactory.WithSandbox(_database.ConnectionString, sandbox, jobServer: true);
        (_tenant, _) = await _api.CreateTenantClientAsync("Coral Health", ConnectedPatients.ReturnUrl);
        // One generated person seen by primary care (NextGen) and the specialist (Epic); read only here.
        var (patientId, nextgen) = await _api.ConnectAsync(_tenant, sandbox, "sandbox-nextgen-r4", sandbox.Generated("nextgen", "R4", 2), "feed-person");
        var epic = await _api.ConnectExistingAsync(_tenant, sandbox, patientId, "sandbox-epic-r4", sandbox.Generated("epic", "R4", 2));
        await _tenant.WaitForRunAsync(nextgen);
        await _tenant.WaitForRunAsync(epic);
        _patientId = patientId;
    }

    public async ValueTask DisposeAsync()
    {
        await _api.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task The_timeline_lists_every_dated_item_once_newest_first()
    {
        var items = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var page = await _tenant.GetJsonAsync($"/v1/patients/{_patientId}/timeline?limit=100" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            items.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.Clone()));
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);

        Assert.True(items.Count > 50, $"only {items.Count} items");
        Assert.Equal(items.Count, items.Select(i => i.GetProperty("id").GetString()).Distinct().Count());
        Assert.DoesNotContain(items, i => i.GetProperty("category").GetString() == "demographics");
        var instants = items.Select(i => DateTimeOffset.Parse(i.GetProperty("effective").GetString()!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(instants.OrderByDescending(t => t).ToList(), instants);
    }

    [Fact]
    public async Task A_lab_trend_puts_both_providers_results_in_one_unit_with_the_shared_result_once()
    {
        var trend = await _tenant.GetJsonAsync($"/v1/patients/{_patientId}/labs/trends?code=2345-7");

        var points = trend.GetProperty("points").EnumerateArray().ToList();
        Assert.NotEmpty(points);
        var unit = trend.GetProperty("unit").GetString();
        Assert.All(points, p => Assert.Equal(unit, p.GetProperty("unit").GetString()));
        Assert.Contains(points, p => p.GetProperty("providers").GetArrayLength() == 2);
        Assert.Equal(points.Count, points.Select(p => p.GetProperty("itemId").GetString()).Distinct().Count());
    }

    [Fact]
    public async Task The_change_feed_returns_every_item_once_and_then_nothing_until_the_record_changes()
    {
        var first = await _tenant.GetJsonAsync($"/v1/patients/{_patientId}/changes?limit=500");
        var again = await _tenant.GetJsonAsync($"/v1/patients/{_patientId}/changes?cursor=" + Uri.EscapeDataString(first.GetProperty("nextCursor").GetString()!));
        var record = await _tenant.GetJsonAsync($"/v1/patients/{_patientId}/record");

        var changes = first.GetProperty("changes").EnumerateArray().ToList();
        var expected = record.GetProperty("categories").EnumerateArray().Sum(c => c.GetProperty("count").GetInt32()) + 1;
        Assert.InRange(changes.Count, expected, expected + 50);
        Assert.All(changes, c => Assert.False(c.GetProperty("deleted").GetBoolean()));
        Assert.Empty(again.GetProperty("changes").EnumerateArray());
    }

    [Fact]
    public async Task A_documents_content_is_served_as_stored_inline_or_from_its_binary()
    {
        var documents = (await _tenant.GetJsonAsync($"/v1/patients/{_patientId}/record/documents?limit=100")).GetProperty("items").EnumerateArray().ToList();
        var byUrl = documents.First(d => d.GetProperty("attachments").EnumerateArray().Any(a => a.TryGetProperty("url", out var u) && u.ValueKind == JsonValueKind.String));
        var inline = documents.First(d => d.GetProperty("attachments").EnumerateArray().Any(a => a.GetProperty("inline").GetBoolean()));

        var fromBinary = await _tenant.GetAsync(new Uri($"/v1/patients/{_patientId}/documents/{byUrl.GetProperty("id").GetString()}/content", UriKind.Relative), TestContext.Current.CancellationToken);
        var fromInline = await _tenant.GetAsync(new Uri($"/v1/patients/{_patientId}/documents/{inline.GetProperty("id").GetString()}/content", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, fromBinary.StatusCode);
        Assert.Equal("text/plain", fromBinary.Content.Headers.ContentType?.MediaType);
        Assert.False(string.IsNullOrWhiteSpace(await fromBinary.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)));
        Assert.Equal(HttpStatusCode.OK, fromInline.StatusCode);
        Assert.False(string.IsNullOrWhiteSpace(await fromInline.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)));
    }
}
