using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Aggregator.Domain.Sync;
using Aggregator.Infrastructure.Connections;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Sync;
using Aggregator.Infrastructure.Tenants;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Aggregator.Benchmarks;

/// <summary>
/// Many first syncs at once, then the same syncs again with nothing changed, by one Worker as deployed (Production, its
/// default job threads and sync settings): the sandbox's generated people at its four FHIR bases, each connected through
/// the real SMART flow while no Worker runs, so that every first sync is queued when the Worker starts. Beside them, in
/// the same run, the two ceilings the issue names: a bare provider client paging the same searches out of the same
/// sandbox with the same tokens and as many at once (the provider's own limit), and a plain COPY of the same rows into
/// jsonb (the database's).
/// </summary>
internal static class SyncBench
{
    public static async Task RunAsync(string repo, BenchReport report, int syncs)
    {
        if (BenchSystem.Missing(repo) is { } missing)
        {
            Console.WriteLine($"Syncs: skipped, {missing}.");
            return;
        }

        await using var database = await BenchDatabase.StartAsync(repo);
        using var keyRing = new KeyRingCertificate();
        var jobs = new Infrastructure.Jobs.JobServerOptions().WorkerCount;
        // The Worker warms up (JIT, pools, each provider's capabilities) on first syncs of people it is not measured on,
        // queued before the measured ones (jobs start in the order they were queued): a cold Worker spent most of its
        // first syncs compiling code. As many as the Worker runs at once, four times over, from every base. What it still
        // compiles during the measured rounds is printed beside them, from its /metrics.
        var warmUp = 4 * jobs;
        await using var system = await BenchSystem.StartAsync(repo, database.ConnectionString, keyRing.Path, new()
        {
            ["Sandbox__Generator__People"] = ((warmUp + syncs + 3) / 4).ToString(CultureInfo.InvariantCulture),
        });
        var logins = (await system.GeneratedLoginsAsync()).Take(warmUp + syncs).ToList();
        var warmUpLogins = logins.Take(warmUp).ToList();
        var warmUpConnections = (await system.ConnectAsync(warmUpLogins, "warm-up")).Select(c => c.Connection).ToList();
        var connections = (await system.ConnectAsync(logins.Skip(warmUp).ToList(), "sync")).Select(c => c.Connection).ToList();

        var operatorPassword = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var worker = system.StartWorker(new()
        {
            // Idle job threads look for work every second (5 s by default), so that the re-syncs start a poll sooner.
            ["Worker__PollInterval"] = "00:00:01",
            ["Operator__DashboardPassword"] = operatorPassword,
        });
        await worker.WaitReadyAsync();
        using var metrics = new HttpClient { BaseAddress = worker.Url };
        metrics.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("operator:" + operatorPassword)));
        await WarmedUpAsync(system, warmUpConnections);
        var jitBeforeFirst = await JitAsync(metrics);
        var first = await RoundAsync(system, connections, DateTimeOffset.MinValue);
        var jitAfterFirst = await JitAsync(metrics);
        var since = DateTimeOffset.UtcNow;
        await using (var db = AggregatorDbContext.ForSystem(system.Services.GetRequiredService<NpgsqlDataSource>()))
        {
            await db.Connections.Where(c => connections.Contains(c.Id)).ExecuteUpdateAsync(set => set.SetProperty(c => c.NextSyncAt, since));
        }

        new RecurringJobManager(system.Services.GetRequiredService<JobStorage>()).TriggerJob(SyncDispatcher.RecurringJobId);
        var again = await RoundAsync(system, connections, since);
        var jitAfterAgain = await JitAsync(metrics);
        await worker.StopAsync();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Syncs by one Worker ({jobs} jobs at once): {first.Syncs} first syncs, {first.Resources:N0} resources in {first.Seconds:0.0} s; again with nothing changed in {again.Seconds:0.0} s{(first.Failed + again.Failed > 0 ? $"; {first.Failed + again.Failed} failed" : "")}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"The Worker's JIT: {jitBeforeFirst.Methods:N0} methods in {jitBeforeFirst.Seconds:0.0} s by the end of its {warmUp} warm-up syncs; {jitAfterFirst.Methods - jitBeforeFirst.Methods:N0} more in {jitAfterFirst.Seconds - jitBeforeFirst.Seconds:0.0} s during the first syncs (the first of them already under way); {jitAfterAgain.Methods - jitAfterFirst.Methods:N0} more in {jitAfterAgain.Seconds - jitAfterFirst.Seconds:0.0} s during the re-syncs"));

        // Warmed up by one pass it does not count (this process's JIT, the sandbox's caches), as the Worker was by its first syncs.
        await BareClientAsync(system, connections.Take(jobs).ToList(), jobs);
        var bare = await BareClientAsync(system, connections, jobs);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Ceiling: a bare client paging the same searches ({jobs} at once): {bare.Resources:N0} resources in {bare.Seconds:0.0} s = {bare.Resources / bare.Seconds:N0}/s"));
        var copy = await CopyAsync(system, connections);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Ceiling: COPY of the same {copy.Rows:N0} rows into jsonb in {copy.Seconds:0.00} s = {copy.Rows / copy.Seconds:N0}/s"));

        var rate = first.Resources / first.Seconds;
        var (ceilingName, ceiling) = bare.Resources / bare.Seconds <= copy.Rows / copy.Seconds
            ? ("bare provider client, the lower ceiling", bare.Resources / bare.Seconds)
            : ("COPY into jsonb, the lower ceiling", copy.Rows / copy.Seconds);
        report.Add(new BenchFigure(string.Create(CultureInfo.InvariantCulture, $"sync: {first.Syncs} first syncs at once"), rate, "resources/s", ceilingName, ceiling, HigherIsBetter: true, Target: 0.5,
            string.Create(CultureInfo.InvariantCulture,
                $"{first.Resources:N0} resources in {first.Seconds:0.0} s, one Worker, {jobs} jobs; bare client {bare.Resources / bare.Seconds:N0}/s, COPY {copy.Rows / copy.Seconds:N0}/s")));
        report.Add(new BenchFigure("sync: the same syncs again, nothing changed", again.Seconds, "s", "the first syncs' time", first.Seconds, HigherIsBetter: false, Target: 3,
            string.Create(CultureInfo.InvariantCulture, $"{first.Seconds / again.Seconds:0.0}× faster than the first, the goal 3×; {again.Resources:N0} resources fetched")));
    }

    /// <summary>Until the warm-up connections' first syncs have all ended (the measured ones start as they do).</summary>
    private static async Task WarmedUpAsync(BenchSystem system, IReadOnlyCollection<Guid> warmUp)
    {
        var deadline = DateTimeOffset.UtcNow.AddMinutes(10);
        while (DateTimeOffset.UtcNow < deadline)
        {
            await using (var db = AggregatorDbContext.ForSystem(system.Services.GetRequiredService<NpgsqlDataSource>()))
            {
                if (await db.SyncRuns.CountAsync(r => warmUp.Contains(r.ConnectionId) && r.FinishedAt != null) >= warmUp.Count)
                {
                    return;
                }
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("The warm-up syncs did not end within 10 minutes.");
    }

    /// <summary>The methods the Worker's JIT has compiled since it started, and the time it took, from its /metrics.</summary>
    private static async Task<(double Methods, double Seconds)> JitAsync(HttpClient metrics)
    {
        var text = await metrics.GetStringAsync(new Uri("metrics", UriKind.Relative));
        return (PrometheusText.Sum(text, "dotnet_jit_compiled_methods_total") ?? double.NaN, PrometheusText.Sum(text, "dotnet_jit_compilation_time_seconds_total") ?? double.NaN);
    }

    /// <summary>
    /// Until every connection has a run queued after <paramref name="since"/> and all of the tenant's have ended: the
    /// connections' runs, from the first start to the last end.
    /// </summary>
    private static async Task<Round> RoundAsync(BenchSystem system, IReadOnlyCollection<Guid> connections, DateTimeOffset since)
    {
        var ended = (await system.WaitForRunsAsync(connections, since)).Where(r => connections.Contains(r.ConnectionId)).ToList();
        var seconds = (ended.Max(r => r.FinishedAt!.Value) - ended.Min(r => r.StartedAt ?? r.FinishedAt!.Value)).TotalSeconds;
        var resources = ended.Sum(r => StoredSyncCounts.ResourcesSoFar(StoredSyncCounts.Parse(r.TypeCounts)));
        return new Round(ended.Count, ended.Count(r => r.Status == SyncRunStatus.Failed), resources, seconds);
    }

    /// <summary>
    /// The provider's limit: for each connection, with its current access token, the patient read and each search of its
    /// provider's plan (each fan-out variant; by status after a 400, as the sync asks) followed to its last page, reading
    /// each page's entries and next link and nothing else; <paramref name="parallel"/> connections at once.
    /// </summary>
    private static async Task<(long Resources, double Seconds)> BareClientAsync(BenchSystem system, IReadOnlyList<Guid> connections, int parallel)
    {
        var targets = new List<(Uri Base, string Patient, SyncPlan Plan, string Token)>();
        foreach (var connectionId in connections)
        {
            await using var scope = system.Services.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<CurrentTenant>().Set(system.TenantId);
            var db = scope.ServiceProvider.GetRequiredService<AggregatorDbContext>();
            var (connection, provider) = await db.Connections.AsNoTracking().Where(c => c.Id == connectionId)
                .Join(db.Providers, c => c.ProviderId, p => p.Id, (c, p) => new ValueTuple<Domain.Connections.Connection, Domain.Providers.Provider>(c, p)).SingleAsync();
            var token = await scope.ServiceProvider.GetRequiredService<ConnectionTokens>().GetAccessTokenAsync(connectionId, CancellationToken.None);
            targets.Add((new Uri(provider.FhirBaseUrl.TrimEnd('/') + "/"), connection.ProviderPatientId!, scope.ServiceProvider.GetRequiredService<SyncPlanCatalog>().For(provider), token));
        }

        using var http = new HttpClient();
        long resources = 0;
        var stopwatch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(targets, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (target, ct) =>
        {
            var found = await PagesAsync(http, target.Token, new Uri(target.Base, "Patient/" + Uri.EscapeDataString(target.Patient)), ct);
            foreach (var search in target.Plan.Searches)
            {
                foreach (var variant in search.Variants())
                {
                    var query = new List<string> { "patient=" + Uri.EscapeDataString(target.Patient), "_count=" + target.Plan.PageSize.ToString(CultureInfo.InvariantCulture) };
                    query.AddRange(variant.Select(v => v.Key + "=" + Uri.EscapeDataString(v.Value)));
                    if (search.Include is { } include)
                    {
                        query.Add("_include=" + Uri.EscapeDataString(include));
                    }

                    var searched = await PagesAsync(http, target.Token, new Uri(target.Base, search.ResourceType + "?" + string.Join('&', query)), ct);
                    if (searched < 0 && variant.Count == 0 && search.StatusValuesOn400 is { Count: > 0 } statuses)
                    {
                        foreach (var status in statuses)
                        {
                            found += Math.Max(0, await PagesAsync(http, target.Token, new Uri(target.Base, search.ResourceType + "?" + string.Join('&', query.Append("status=" + status))), ct));
                        }
                    }

                    found += Math.Max(0, searched);
                }
            }

            Interlocked.Add(ref resources, found);
        });
        return (resources, stopwatch.Elapsed.TotalSeconds);
    }

    /// <summary>The resources of a read, or of a search followed to its last page; -1 when the server refuses it.</summary>
    private static async Task<long> PagesAsync(HttpClient http, string token, Uri url, CancellationToken cancellationToken)
    {
        long found = 0;
        for (Uri? next = url; next is not null;)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, next);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            request.Headers.Accept.ParseAdd("application/fhir+json");
            using var response = await http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return found == 0 ? -1 : found;
            }

            using var page = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
            if (page.RootElement.GetProperty("resourceType").GetString() != "Bundle")
            {
                return found + 1;
            }

            found += page.RootElement.TryGetProperty("entry", out var entries) ? entries.GetArrayLength() : 0;
            next = page.RootElement.TryGetProperty("link", out var links)
                ? links.EnumerateArray().Where(l => l.GetProperty("relation").GetString() == "next").Select(l => new Uri(l.GetProperty("url").GetString()!)).FirstOrDefault()
                : null;
        }

        return found;
    }

    /// <summary>The database's limit: the rows the syncs stored, as JSON text, written again by a plain binary COPY in pages of 100.</summary>
    private static async Task<(long Rows, double Seconds)> CopyAsync(BenchSystem system, IReadOnlyList<Guid> connections)
    {
        var dataSource = system.Services.GetRequiredService<NpgsqlDataSource>();
        var rows = new List<(Guid ConnectionId, string Type, string Id, string Json)>();
        await using (var command = dataSource.CreateCommand(
            "SELECT connection_id, resource_type, resource_id, resource::text FROM source_resources WHERE connection_id = ANY(@connections)"))
        {
            command.Parameters.AddWithValue("connections", connections.ToArray());
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)));
            }
        }

        var pages = rows.Chunk(100).Select(page => (IReadOnlyList<(Guid, string, string, string)>)page).ToList();
        // The faster of two runs, as for ingest: the first also pays for a cold table.
        var seconds = Math.Min(await CopyCeiling.SecondsAsync(dataSource, pages), await CopyCeiling.SecondsAsync(dataSource, pages));
        return (rows.Count, seconds);
    }

    private sealed record Round(int Syncs, int Failed, long Resources, double Seconds);
}
