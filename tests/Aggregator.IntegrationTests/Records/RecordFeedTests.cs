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

    [Fact]
    public async Task An_item_shows_every_source_with_the_providers_resource_as_stored_and_the_rule_that_merged_them()
    {
        var labs = (await _tenant.GetJsonAsync($"/v1/patients/{_patientId}/record/labs?limit=500")).GetProperty("items").EnumerateArray().ToList();
        var shared = labs.First(i => i.GetProperty("sources").GetArrayLength() == 2);
        var id = shared.GetProperty("id").GetString();

        var plain = await _tenant.GetJsonAsync($"/v1/patients/{_patientId}/record/items/{id}");
        var raw = await _tenant.GetJsonAsync($"/v1/patients/{_patientId}/record/items/{id}?include=raw");

        Assert.Equal(shared.GetRawText(), plain.GetRawText());
        Assert.False(string.IsNullOrEmpty(raw.GetProperty("mergedBy").GetString()));
        var sources = raw.GetProperty("sources").EnumerateArray().ToList();
        Assert.Equal(2, sources.Select(s => s.GetProperty("provider").GetString()).Distinct().Count());
        Assert.All(sources, s =>
        {
            var resource = s.GetProperty("resource");
            Assert.Equal(s.GetProperty("resourceType").GetString(), resource.GetProperty("resourceType").GetString());
            Assert.Equal(s.GetProperty("resourceId").GetString(), resource.GetProperty("id").GetString());
            Assert.Equal("Observation", resource.GetProperty("resourceType").GetString());
            Assert.True(resource.TryGetProperty("valueQuantity", out _));
        });
        var missing = await _tenant.GetAsync(new Uri($"/v1/patients/{_patientId}/record/items/{Guid.NewGuid()}", UriKind.Relative), TestContext.Current.CancellationToken);
        var badInclude = await _tenant.GetAsync(new Uri($"/v1/patients/{_patientId}/record/items/{id}?include=everything", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badInclude.StatusCode);
    }

    [Fact]
    public async Task A_text_filter_finds_items_by_the_words_or_codes_any_provider_used()
    {
        var all = (await _tenant.GetJsonAsync($"/v1/patients/{_patientId}/record/labs?limit=500")).GetProperty("items").EnumerateArray().ToList();
        var glucose = (await _tenant.GetJsonAsync($"/v1/patients/{_patientId}/record/labs?limit=500&q=GLUCOSE")).GetProperty("items").EnumerateArray().ToList();
        var byCode = (await _tenant.GetJsonAsync($"/v1/patients/{_patientId}/record/labs?limit=500&q=2345-7")).GetProperty("items").EnumerateArray().ToList();
        var nothing = (await _tenant.GetJsonAsync($"/v1/patients/{_patientId}/record/labs?q=zebra%20glucose")).GetProperty("items").EnumerateArray().ToList();
        var timeline = (await _tenant.GetJsonAsync($"/v1/patients/{_patientId}/timeline?limit=500&q=glucose")).GetProperty("items").EnumerateArray().ToList();

        var expected = all.Where(i => Mentions(i, "glucose")).Select(Id).Order().ToList();
        Assert.NotEmpty(expected);
        Assert.True(expected.Count < all.Count);
        Assert.Equal(expected, glucose.Select(Id).Order().ToList());
        Assert.NotEmpty(byCode);
        Assert.All(byCode, i => Assert.Contains(i.GetProperty("codes").EnumerateArray(), c => c.GetProperty("code").GetString() == "2345-7"));
        Assert.Empty(nothing);
        Assert.Superset(expected.ToHashSet(), timeline.Select(Id).ToHashSet());
        Assert.Contains(timeline, i => i.GetProperty("category").GetString() == "labs");
    }

    [Fact]
    public async Task The_text_filter_takes_wildcard_characters_as_the_characters_themselves()
    {
        var all = (await _tenant.GetJsonAsync($"/v1/patients/{_patientId}/record/labs?limit=500")).GetProperty("items").EnumerateArray().ToList();
        var wholeTimeline = (await _tenant.GetJsonAsync($"/v1/patients/{_patientId}/timeline?limit=500")).GetProperty("items").GetArrayLength();
        Assert.NotEmpty(all);
        // In a pattern match, % would match every item and _ any one character: the filter must find only items that say them.
        foreach (var character in new[] { "%", "_", "\\", "%_" })
        {
            var found = (await _tenant.GetJsonAsync($"/v1/patients/{_patientId}/record/labs?limit=500&q={Uri.EscapeDataString(character)}")).GetProperty("items").EnumerateArray();
            var timeline = (await _tenant.GetJsonAsync($"/v1/patients/{_patientId}/timeline?limit=500&q={Uri.EscapeDataString(character)}")).GetProperty("items").EnumerateArray();
            Assert.Equal(all.Where(i => Mentions(i, character)).Select(Id).Order().ToList(), found.Select(Id).Order().ToList());
            Assert.True(timeline.Count() < wholeTimeline, $"The timeline filtered by '{character}' answered as if unfiltered.");
        }
    }

    private static string Id(JsonElement item) => item.GetProperty("id").GetString()!;

    private static bool Mentions(JsonElement item, string word) =>
        item.GetProperty("sources").EnumerateArray().Any(s => s.GetProperty("display").GetString()?.Contains(word, StringComparison.OrdinalIgnoreCase) == true)
        || item.GetProperty("codes").EnumerateArray().Any(c => c.GetProperty("display").GetString()?.Contains(word, StringComparison.OrdinalIgnoreCase) == true
            || c.GetProperty("code").GetString()?.Contains(word, StringComparison.OrdinalIgnoreCase) == true);
}
