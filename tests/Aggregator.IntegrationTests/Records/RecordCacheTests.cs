using System.Text.Json;
using Aggregator.Infrastructure.Notifications;
using Aggregator.Infrastructure.Records;
using Aggregator.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.IntegrationTests.Records;

/// <summary>Hot record pages come from memory until the patient's record version moves (announced by NOTIFY).</summary>
public sealed class RecordCacheTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox, jobServer: true,
    settings: new Dictionary<string, string?> { ["RecordCache:MaxEntries"] = "100" })
{
    [Fact]
    public async Task The_cache_is_bounded_in_entries_and_in_patients_however_small_the_pages()
    {
        var cache = Api.Services.GetRequiredService<RecordPageCache>();
        var notifications = Api.Services.GetRequiredService<DatabaseNotifications>();
        var patients = Enumerable.Range(0, 500).Select(_ => Guid.CreateVersion7()).ToList();

        // Tiny pages for many patients (an empty page is a few bytes), and record changes of many more.
        foreach (var patient in patients)
        {
            cache.Set(patient, "labs?limit=1", new CachedPage(TenantId, 1, "{\"items\":[]}", "\"1\""), cache.Generation);
        }

        Assert.InRange(cache.Entries, 1, 100);
        Assert.InRange(cache.TrackedPatients, 1, 200);

        foreach (var patient in Enumerable.Range(0, 500).Select(_ => Guid.CreateVersion7()))
        {
            await notifications.PublishAsync(NotificationChannels.RecordChanged, $"{patient}:2", TestContext.Current.CancellationToken);
        }

        await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        Assert.InRange(cache.Entries, 0, 100);
        Assert.InRange(cache.TrackedPatients, 1, 200);
        // It still caches: a page set now is served.
        cache.Set(patients[0], "labs?limit=2", new CachedPage(TenantId, 7, "{}", "\"7\""), cache.Generation);
        Assert.True(cache.TryGet(TenantId, patients[0], "labs?limit=2", out var page));
        Assert.Equal(7, page.Version);
    }

    [Fact]
    public async Task A_page_read_before_the_cache_forgot_the_versions_it_heard_is_not_kept()
    {
        var cache = Api.Services.GetRequiredService<RecordPageCache>();
        var notifications = Api.Services.GetRequiredService<DatabaseNotifications>();
        var patient = Guid.CreateVersion7();

        // A read takes the page of version 4 from the database; meanwhile version 5 is announced and the cache forgets
        // everything it heard (as after a lost listener connection), so it no longer knows 4 is stale.
        var generation = cache.Generation;
        await notifications.PublishAsync(NotificationChannels.RecordChanged, $"{patient}:5", TestContext.Current.CancellationToken);
        await notifications.PublishAsync(NotificationChannels.RecordChanged, NotificationChannels.Everything, TestContext.Current.CancellationToken);
        for (var i = 0; i < 100 && cache.Generation == generation; i++)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        cache.Set(patient, "labs?limit=3", new CachedPage(TenantId, 4, "{}", "\"4\""), generation);
        var staleServed = cache.TryGet(TenantId, patient, "labs?limit=3", out _);
        cache.Set(patient, "labs?limit=3", new CachedPage(TenantId, 5, "{}", "\"5\""), cache.Generation);
        var freshServed = cache.TryGet(TenantId, patient, "labs?limit=3", out var fresh);

        Assert.NotEqual(generation, cache.Generation);
        Assert.False(staleServed);
        Assert.True(freshServed);
        Assert.Equal(5, fresh.Version);
    }

    [Fact]
    public async Task A_page_is_served_from_memory_until_a_new_record_version_is_announced()
    {
        var (patientId, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-nextgen-r4", Sandbox.Login("nextgen", "R4", 6), "cached-patient");
        await Tenant.WaitForRunAsync(connectionId);
        var path = $"/v1/patients/{patientId}/record/conditions?limit=5";
        var first = await Tenant.GetStringAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);

        // The stored items change behind the cache's back, without a new version: the cached page still answers.
        long version;
        await using (var db = Database.CreateContext())
        {
            await db.RecordItems.Where(i => i.PatientId == patientId && i.Category == "conditions")
                .ExecuteUpdateAsync(set => set.SetProperty(i => i.Compact, i => i.Compact.Replace("\"display\":", "\"display\":\"edited\",\"was\":")), TestContext.Current.CancellationToken);
            version = await db.Patients.Where(p => p.Id == patientId).Select(p => p.RecordVersion).SingleAsync(TestContext.Current.CancellationToken) + 1;
            await db.Patients.Where(p => p.Id == patientId).ExecuteUpdateAsync(set => set.SetProperty(p => p.RecordVersion, version), TestContext.Current.CancellationToken);
        }

        var cached = await Tenant.GetStringAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);
        await Api.Services.GetRequiredService<DatabaseNotifications>().PublishAsync(NotificationChannels.RecordChanged, $"{patientId}:{version}", TestContext.Current.CancellationToken);
        var fresh = await WaitForChangeAsync(path, first);

        Assert.Equal(first, cached);
        Assert.Contains("\"display\":\"edited\"", fresh, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_first_page_is_kept_at_its_first_read_and_a_filtered_page_from_its_second()
    {
        var (patientId, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-nextgen-r4", Sandbox.Login("nextgen", "R4", 0), "admitted-patient");
        await Tenant.WaitForRunAsync(connectionId);
        var firstPage = $"/v1/patients/{patientId}/record/conditions?limit=5";
        var filtered = $"/v1/patients/{patientId}/record/conditions?limit=5&from=1900-01-01";
        var firstPageBefore = await Tenant.GetStringAsync(new Uri(firstPage, UriKind.Relative), TestContext.Current.CancellationToken);
        var filteredOnce = await Tenant.GetStringAsync(new Uri(filtered, UriKind.Relative), TestContext.Current.CancellationToken);

        // The stored items change behind the cache's back, without a new version, twice.
        await EditConditionsAsync(patientId, "first");
        var firstPageAfter = await Tenant.GetStringAsync(new Uri(firstPage, UriKind.Relative), TestContext.Current.CancellationToken);
        var filteredTwice = await Tenant.GetStringAsync(new Uri(filtered, UriKind.Relative), TestContext.Current.CancellationToken);
        await EditConditionsAsync(patientId, "second");
        var filteredThrice = await Tenant.GetStringAsync(new Uri(filtered, UriKind.Relative), TestContext.Current.CancellationToken);

        // The first page was kept when first read; the filtered one was read from the database again, and kept then.
        Assert.Equal(firstPageBefore, firstPageAfter);
        Assert.DoesNotContain("\"edit\":", filteredOnce, StringComparison.Ordinal);
        Assert.Contains("\"edit\":\"first\"", filteredTwice, StringComparison.Ordinal);
        Assert.Equal(filteredTwice, filteredThrice);
    }

    [Fact]
    public async Task The_summary_is_served_from_memory_until_a_source_changes_whoever_writes_the_change()
    {
        var (patientId, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-nextgen-dstu2", Sandbox.Login("nextgen", "DSTU2", 3), "cached-summary");
        await Tenant.WaitForRunAsync(connectionId);
        var path = $"/v1/patients/{patientId}/record";
        var first = await Tenant.GetStringAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);

        // A change the summary shows but nothing announces (the time the record was last updated): the cached summary
        // still answers, so it comes from memory.
        await using (var db = Database.CreateContext())
        {
            await db.Patients.Where(p => p.Id == patientId)
                .ExecuteUpdateAsync(set => set.SetProperty(p => p.RecordUpdatedAt, new DateTimeOffset(2001, 2, 3, 4, 5, 6, TimeSpan.Zero)), TestContext.Current.CancellationToken);
        }

        var cached = await Tenant.GetStringAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);

        // A source's state changed by any writer (here plain SQL, as an operator's fix would be): the database announces
        // it, and the next summary shows it, with the record itself unchanged.
        await using (var db = Database.CreateContext())
        {
            await db.Database.ExecuteSqlInterpolatedAsync(
                $"UPDATE connections SET status = 'ReauthRequired' WHERE id = {connectionId}", TestContext.Current.CancellationToken);
        }

        var fresh = await WaitForChangeAsync(path, first);

        Assert.Equal(first, cached);
        Assert.NotEqual(first, fresh);
        using var summary = JsonDocument.Parse(fresh);
        Assert.Equal("reauth_required", summary.RootElement.GetProperty("sources")[0].GetProperty("status").GetString());
        Assert.StartsWith("2001-02-03", summary.RootElement.GetProperty("updatedAt").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_summary_read_before_its_sources_changed_is_not_kept()
    {
        var cache = Api.Services.GetRequiredService<RecordPageCache>();
        var notifications = Api.Services.GetRequiredService<DatabaseNotifications>();
        var patient = Guid.CreateVersion7();

        // A read takes the sources' stamp and the summary from the database; meanwhile a source's state changes.
        var generation = cache.Generation;
        var stamp = cache.SourcesStamp(patient);
        await notifications.PublishAsync(NotificationChannels.RecordChanged, RecordPageCache.SourcesNotice(patient), TestContext.Current.CancellationToken);
        for (var i = 0; i < 100 && cache.SourcesStamp(patient) == stamp; i++)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        cache.Set(patient, RecordPageCache.SummaryKey, new CachedPage(TenantId, 3, "{\"stale\":true}", "\"3-a\""), generation, stamp);
        var staleServed = cache.TryGet(TenantId, patient, RecordPageCache.SummaryKey, out _);
        cache.Set(patient, RecordPageCache.SummaryKey, new CachedPage(TenantId, 3, "{\"stale\":false}", "\"3-b\""), cache.Generation, cache.SourcesStamp(patient));
        var freshServed = cache.TryGet(TenantId, patient, RecordPageCache.SummaryKey, out var fresh);
        // The next change drops it at once.
        cache.Set(patient, RecordPageCache.SummaryKey, fresh, cache.Generation, cache.SourcesStamp(patient));
        Api.Services.GetRequiredService<DatabaseNotifications>().Announce(NotificationChannels.RecordChanged, RecordPageCache.SourcesNotice(patient));
        var servedAfterChange = cache.TryGet(TenantId, patient, RecordPageCache.SummaryKey, out _);

        Assert.NotEqual(stamp, cache.SourcesStamp(patient));
        Assert.False(staleServed);
        Assert.True(freshServed);
        Assert.Equal("\"3-b\"", fresh.ETag);
        Assert.False(servedAfterChange);
    }

    [Fact]
    public async Task With_the_cache_off_a_replica_keeps_no_page_and_answers_each_read_from_the_database()
    {
        var (patientId, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-nextgen-r4", Sandbox.Login("nextgen", "R4", 0), "uncached-patient");
        await Tenant.WaitForRunAsync(connectionId);
        await using var uncached = ApiFactory.WithSandbox(Database.ConnectionString, Sandbox, settings: new Dictionary<string, string?> { ["RecordCache:Enabled"] = "false" });
        using var client = uncached.CreateClient();
        client.DefaultRequestHeaders.Authorization = Tenant.DefaultRequestHeaders.Authorization;
        var page = $"/v1/patients/{patientId}/record/conditions?limit=5";
        var paths = new[] { $"/v1/patients/{patientId}/record", $"/v1/patients/{patientId}/record/conditions", $"/v1/patients/{patientId}/timeline", page };
        foreach (var path in paths.Concat(paths))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        }

        var cachedBefore = await Tenant.GetStringAsync(new Uri(page, UriKind.Relative), TestContext.Current.CancellationToken);
        // The stored items change behind both replicas' backs, without a new version.
        await EditConditionsAsync(patientId, "uncached");
        var cachedAfter = await Tenant.GetStringAsync(new Uri(page, UriKind.Relative), TestContext.Current.CancellationToken);
        var uncachedAfter = await client.GetStringAsync(new Uri(page, UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(0, uncached.Services.GetRequiredService<RecordPageCache>().Entries);
        Assert.Equal(cachedBefore, cachedAfter); // the replica with its cache on serves the page it kept
        Assert.Contains("\"edit\":\"uncached\"", uncachedAfter, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reads_beyond_the_replicas_database_slots_wait_their_turn_and_one_that_waits_too_long_is_told_to_come_back()
    {
        var cancel = TestContext.Current.CancellationToken;
        var (patientId, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-nextgen-r4", Sandbox.Login("nextgen", "R4", 0), "slots-patient");
        await Tenant.WaitForRunAsync(connectionId);
        const string Password = "slots-operator-password";
        await using var replica = ApiFactory.WithSandbox(Database.ConnectionString, Sandbox, settings: new Dictionary<string, string?>
        {
            ["Database:MaxConcurrentReads"] = "2",
            ["Database:ReadQueueTimeout"] = "00:00:02",
            ["Operator:DashboardPassword"] = Password,
        });
        using var client = replica.CreateClient();
        client.DefaultRequestHeaders.Authorization = Tenant.DefaultRequestHeaders.Authorization;
        using var operatorClient = replica.CreateClient();
        operatorClient.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("operator:" + Password)));
        var slots = replica.Services.GetRequiredService<RecordReadSlots>();
        var first = $"/v1/patients/{patientId}/record/conditions";
        var expected = await client.GetStringAsync(new Uri(first, UriKind.Relative), cancel); // kept in the replica's memory from now on

        // Twenty reads that each need the database, at once, through two slots: every one is answered, none refused.
        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(n =>
            client.GetAsync(new Uri($"/v1/patients/{patientId}/record/conditions?q=&n={n}", UriKind.Relative), cancel)));
        foreach (var answer in answers)
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, answer.StatusCode);
            Assert.Equal(Items(expected), Items(await answer.Content.ReadAsStringAsync(cancel)));
        }

        Assert.Equal(slots.Capacity, slots.Free);

        // Both slots taken (reads that take long, say): a read that needs the database waits, the operator sees it wait,
        // and after the replica's patience it is told to come back, with nothing about the database in the answer.
        var held = new[] { await slots.EnterAsync(cancel), await slots.EnterAsync(cancel) };
        var started = System.Diagnostics.Stopwatch.StartNew();
        var waiting = client.GetAsync(new Uri($"/v1/patients/{patientId}/record/conditions?q=&n=busy", UriKind.Relative), cancel);
        var seenWaiting = false;
        while (!waiting.IsCompleted && !seenWaiting)
        {
            var metrics = await operatorClient.GetStringAsync(new Uri("/metrics", UriKind.Relative), cancel);
            await Task.Delay(20, cancel);
            seenWaiting = metrics.Split('\n').Any(line => line.StartsWith("aggregator_record_reads_waiting", StringComparison.Ordinal) && line.EndsWith(" 1", StringComparison.Ordinal));
        }

        using var busy = await waiting;
        Assert.True(seenWaiting, "the waiting read never showed on /metrics");
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, busy.StatusCode);
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(1.9), TimeSpan.FromSeconds(30));
        Assert.Equal("1", busy.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("application/problem+json", busy.Content.Headers.ContentType?.MediaType);
        var problem = await busy.Content.ReadAsStringAsync(cancel);
        Assert.Contains("\"status\":503", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("slot", problem, StringComparison.OrdinalIgnoreCase);

        // A page the replica keeps in memory needs no slot: it is served while the database's slots are all taken.
        using var cached = await client.GetAsync(new Uri(first, UriKind.Relative), cancel);
        Assert.Equal(System.Net.HttpStatusCode.OK, cached.StatusCode);
        Assert.Equal(expected, await cached.Content.ReadAsStringAsync(cancel));

        // One slot given back: reads that need the database are answered again, and lost nothing.
        held[0].Dispose();
        Assert.Equal(Items(expected), Items(await client.GetStringAsync(new Uri($"/v1/patients/{patientId}/record/conditions?q=&n=after", UriKind.Relative), cancel)));
        held[1].Dispose();
        Assert.Equal(slots.Capacity, slots.Free);

        static string Items(string page) => JsonDocument.Parse(page).RootElement.GetProperty("items").GetRawText();
    }

    [Theory]
    [InlineData("Database:MaxConcurrentReads", "0")]
    [InlineData("Database:ReadQueueTimeout", "-00:00:01")]
    public async Task A_replica_whose_database_slots_are_set_wrong_refuses_to_start_and_names_the_setting(string key, string value)
    {
        await using var replica = ApiFactory.WithSandbox(Database.ConnectionString, Sandbox, settings: new Dictionary<string, string?> { [key] = value });

        var refused = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => replica.CreateClient());

        Assert.Contains(key, refused.Message, StringComparison.Ordinal);
    }

    private async Task EditConditionsAsync(Guid patientId, string edit)
    {
        await using var db = Database.CreateContext();
        await db.RecordItems.Where(i => i.PatientId == patientId && i.Category == "conditions")
            .ExecuteUpdateAsync(set => set.SetProperty(i => i.Compact, i => i.Compact.Replace("\"display\":", "\"edit\":\"" + edit + "\",\"display\":")), TestContext.Current.CancellationToken);
    }

    private async Task<string> WaitForChangeAsync(string path, string before)
    {
        for (var i = 0; i < 100; i++)
        {
            var now = await Tenant.GetStringAsync(new Uri(path, UriKind.Relative));
            if (now != before)
            {
                return now;
            }

            await Task.Delay(50);
        }

        return before;
    }
}
