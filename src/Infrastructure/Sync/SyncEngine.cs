using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Aggregator.Domain.Connections;
using Aggregator.Domain.Fhir;
using Aggregator.Domain.Providers;
using Aggregator.Domain.Sync;
using Aggregator.Infrastructure.Connections;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Tenants;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Aggregator.Infrastructure.Sync;

/// <summary>Why a run did not start now: another run of the connection holds it, or the provider is at its limit.</summary>
public enum SyncStart
{
    Ran,
    ConnectionBusy,
    ProviderBusy,
}

/// <summary>
/// One sync run of one connection: the patient, then every search of the sync plan (following
/// <c>next</c> links exactly as given), then the referenced resources; stored in bulk, only what
/// changed rewritten; deletions found by full syncs; per-type counts and coverage recorded.
/// </summary>
public sealed partial class SyncEngine(
    AggregatorDbContext db,
    Webhooks.WebhookOutbox webhooks,
    Events.PatientEventLog events,
    CurrentTenant tenant,
    NpgsqlDataSource dataSource,
    ProviderFhirClient fhir,
    SyncPlanCatalog plans,
    CapabilityProbe capabilities,
    IEnumerable<IRecordRebuilder> rebuilders,
    Notifications.DatabaseNotifications notifications,
    ScopeDatabaseTurns turns,
    IOptions<SyncOptions> options,
    Observability.AggregatorMetrics metrics,
    TimeProvider clock,
    ILogger<SyncEngine> logger)
{
    /// <summary>Why a run stopped when its connection was disconnected while it ran.</summary>
    public const string Disconnected = "The connection was disconnected while it synced; nothing more was stored.";

    public async Task<SyncStart> RunAsync(Guid syncRunId, CancellationToken cancellationToken)
    {
        SyncRun? run;
        // The job names a run, not a tenant: found as system work, then synced as its tenant's.
        using (tenant.ActAsSystem())
        {
            run = await db.SyncRuns.IgnoreQueryFilters().SingleOrDefaultAsync(r => r.Id == syncRunId, cancellationToken);
        }

        if (run is null || run.Status is SyncRunStatus.Succeeded or SyncRunStatus.Partial or SyncRunStatus.Failed)
        {
            return SyncStart.Ran;
        }

        tenant.Set(run.TenantId);
        var connection = await db.Connections.SingleAsync(c => c.Id == run.ConnectionId, cancellationToken);
        var provider = await db.Providers.AsNoTracking().SingleAsync(p => p.Id == connection.ProviderId, cancellationToken);

        await using var session = await dataSource.OpenConnectionAsync(cancellationToken);
        // The batch writer's COPY runs on this session: it writes as the tenant, under row-level security.
        await TenantSession.ForTenantAsync(session, run.TenantId, cancellationToken);
        // EF's commands (the run's state, its progress, coverage, the rebuild) share one connection for the whole run:
        // opened per command, each of a run's hundred-odd commands also paid for a pooled connection's reset and the
        // tenant's session setting, a round trip of its own.
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            return await RunLockedAsync(run, connection, provider, session, cancellationToken);
        }
        finally
        {
            await SyncLocks.ReleaseAllAsync(session);
            await db.Database.CloseConnectionAsync();
        }
    }

    private async Task<SyncStart> RunLockedAsync(SyncRun run, Connection connection, Provider provider, NpgsqlConnection session, CancellationToken cancellationToken)
    {
        if (!await SyncLocks.TryLockConnectionAsync(session, connection.Id, cancellationToken))
        {
            return SyncStart.ConnectionBusy;
        }

        // Read again under the lock: another job of this run (a swept one, a dashboard re-queue) may have finished it
        // between the first read and the lock.
        await db.Entry(run).ReloadAsync(cancellationToken);
        if (run.Status is SyncRunStatus.Succeeded or SyncRunStatus.Partial or SyncRunStatus.Failed)
        {
            return SyncStart.Ran;
        }

        if (!await SyncLocks.TryTakeProviderSlotAsync(session, provider.Id, options.Value.MaxConcurrentPerProvider, cancellationToken))
        {
            return SyncStart.ProviderBusy;
        }

        var stopwatch = Stopwatch.StartNew();
        run.Status = SyncRunStatus.Running;
        run.StartedAt ??= clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        LogStarted(logger, run.Id, connection.Id, provider.Slug);

        var state = new RunState(new ResourceBatchWriter(session, connection.TenantId, connection.Id, clock), run, connection);
        try
        {
            // An unconfirmed binding syncs too (quarantined: nothing it stores reaches a read path until confirmed).
            if (connection.Status is not (ConnectionStatus.Active or ConnectionStatus.PendingConfirmation) || connection.ProviderPatientId is null)
            {
                throw new SyncFailedException($"The connection is {connection.Status}, not active.");
            }

            var full = run.FullSync || connection.LastFullSyncAt is null || connection.LastSuccessProviderTime is null
                || clock.GetUtcNow() - connection.LastFullSyncAt > options.Value.FullSyncEvery;
            run.FullSync = full;
            var since = full ? null : connection.LastSuccessProviderTime - options.Value.IncrementalMargin;
            await ReportProgressAsync(state, cancellationToken);
            await SyncAsync(connection, provider, state, since, cancellationToken);
            await FinishAsync(run, connection, state, full, cancellationToken);
        }
        catch (ReauthorizationRequiredException)
        {
            await db.Entry(connection).ReloadAsync(cancellationToken);
            Fail(run, connection.Status == ConnectionStatus.Revoked
                ? Disconnected
                : "reauth_required: the provider no longer accepts this connection's grant; the patient must reconnect.");
        }
        catch (SyncFailedException ex)
        {
            Fail(run, ex.Message);
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            Fail(run, "The provider could not be read: " + ex.GetType().Name);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A defect of ours must not leave the run "running" for ever: record it, keep what was stored.
            LogCrashed(logger, ex, run.Id);
            Fail(run, "The sync stopped on an internal error; what was read is stored. Operators can see the details in the logs.");
        }

        connection.LastSyncAt = clock.GetUtcNow();
        run.TypeCounts = JsonSerializer.Serialize(state.Counts, SyncCountsJson.Options);
        run.Pages = state.Counts.Values.Sum(c => c.Pages);
        run.Bytes = state.Counts.Values.Sum(c => c.Bytes);
        run.FinishedAt = clock.GetUtcNow();
        run.DurationMs = stopwatch.ElapsedMilliseconds;
        await UpdateCoverageAsync(connection, state, cancellationToken);
        // The binding may have been confirmed while the run went on: ask again.
        var confirmed = await IsConfirmedAsync(connection.Id, cancellationToken);
        if (confirmed)
        {
            await webhooks.AddSyncFinishedAsync(connection.TenantId, connection.PatientId, connection.Id, run.Id, run.Status, run.Error, cancellationToken);
        }

        await SaveKeepingOthersChangesAsync(cancellationToken);
        // The sources' sync state moved: the database told every replica (a trigger on connections); a cache in this
        // process stops serving the old summary at once, before anyone hears that the run finished.
        notifications.Announce(Notifications.NotificationChannels.RecordChanged, Records.RecordPageCache.SourcesNotice(connection.PatientId));
        webhooks.Dispatch();
        if (confirmed)
        {
            // After the run is saved, so a client that hears it reads the finished run.
            await events.AppendAsync(connection.PatientId, Domain.Events.PatientEventTypes.SyncFinished, new
            {
                connectionId = connection.Id,
                syncRunId = run.Id,
                status = run.Status.ToString().ToLowerInvariant(),
                error = run.Error,
                resourcesSoFar = state.ResourcesSoFar,
                recordVersion = await db.Patients.Where(p => p.Id == connection.PatientId).Select(p => p.RecordVersion).SingleAsync(cancellationToken),
            }, cancellationToken);
        }

        LogFinished(logger, run.Id, run.Status, stopwatch.ElapsedMilliseconds);
        metrics.SyncFinished(provider.Slug, run.Status.ToString().ToLowerInvariant(), stopwatch.Elapsed);
        metrics.ResourcesWritten(provider.Slug, state.Counts.Values.Sum(c => c.New + c.Changed));
        return SyncStart.Ran;
    }

    private async Task SyncAsync(Connection connection, Provider provider, RunState state, DateTimeOffset? since, CancellationToken cancellationToken)
    {
        var baseUrl = new Uri(provider.FhirBaseUrl.EndsWith('/') ? provider.FhirBaseUrl : provider.FhirBaseUrl + "/");
        var patientId = connection.ProviderPatientId!;

        // The patient first: if it cannot be read, nothing else will be.
        var patient = await fhir.GetAsync(connection.Id, new Uri(baseUrl, "Patient/" + Uri.EscapeDataString(patientId)), provider, cancellationToken);
        state.ProviderClock ??= patient.ServerDate;
        if (!patient.IsSuccess)
        {
            throw new SyncFailedException("The patient could not be read: " + patient.Describe());
        }

        using (var document = JsonDocument.Parse(patient.Body))
        {
            await StoreAsync(state, "Patient", [SearchPage.Entry(document.RootElement)], provider.FhirVersion, patient.Body.Length, cancellationToken);
        }

        var plan = plans.For(provider);
        var server = await capabilities.ReadAsync(provider, cancellationToken);
        var searches = plan.Searches.ToList();
        if (server.IsKnown)
        {
            // Types the server offers a patient search for that the plan lacks (e.g. Claim, ImagingStudy).
            searches.AddRange(server.SearchParameters.Keys
                .Where(type => server.OffersPatientSearch(type) && type != "Patient" && PatientCompartment.Contains(provider.FhirVersion, type)
                    && searches.All(s => s.ResourceType != type))
                .Order(StringComparer.Ordinal)
                .Select(type => new SearchSpec(type)));
        }

        // Independent searches run at once, up to Sync:MaxRequestsPerConnection, each followed page by page; what they
        // store, count and report takes the scope's database in turns. A search that fails stops the others at their next
        // page (never in the middle of storing one); the loop then throws the first failure.
        var concurrency = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Value.MaxRequestsPerConnection), CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(searches, concurrency, async (search, stopping) =>
        {
            var useSince = since is not null && (!server.IsKnown || server.SupportsLastUpdated(search.ResourceType)) ? since : null;
            var outcome = await SearchTypeAsync(connection, provider, baseUrl, plan, search, patientId, useSince, state, stopping, cancellationToken);
            using (await turns.TakeAsync(cancellationToken))
            {
                var counts = state.For(search.ResourceType);
                counts.Outcome = outcome.State;
                counts.Detail = outcome.Detail;
                if (outcome.State is CoverageState.Synced or CoverageState.Empty && useSince is null)
                {
                    state.FullyFetched.Add(search.ResourceType);
                }

                // After a type that fetched something, named even when another search's report already counted its
                // resources; none after an empty type (most of a plan's, on a re-sync all of them), which cost three
                // database round trips and an event that told the patient nothing new.
                if (counts.Fetched > 0)
                {
                    await ReportProgressAsync(state, cancellationToken, resourceType: search.ResourceType);
                }
            }
        });

        await ReadReferencedAsync(connection, provider, baseUrl, plan, state, cancellationToken);
        await ReadDocumentsAsync(connection, provider, baseUrl, state, cancellationToken);
    }

    /// <summary>One resource type: its fan-out variants, each followed to its last page; a 400 may fan out by status.</summary>
    private async Task<(CoverageState State, string? Detail)> SearchTypeAsync(
        Connection connection, Provider provider, Uri baseUrl, SyncPlan plan, SearchSpec search, string patientId, DateTimeOffset? since, RunState state,
        CancellationToken stopping, CancellationToken cancellationToken)
    {
        var results = new List<(CoverageState State, string? Detail)>();
        foreach (var variant in search.Variants())
        {
            var result = await SearchAsync(connection, provider, baseUrl, plan, search, variant, patientId, since, state, stopping, cancellationToken);
            if (result.State == CoverageState.Unsupported && search.StatusValuesOn400 is { Count: > 0 } statuses && variant.Count == 0)
            {
                // Some servers insist on a status: ask once per status value instead.
                var byStatus = new List<(CoverageState State, string? Detail)>();
                foreach (var status in statuses)
                {
                    byStatus.Add(await SearchAsync(connection, provider, baseUrl, plan, search, [new("status", status)], patientId, since, state, stopping, cancellationToken));
                }

                result = Combine(byStatus);
            }

            results.Add(result);
        }

        return Combine(results);
    }

    private static (CoverageState State, string? Detail) Combine(List<(CoverageState State, string? Detail)> results)
    {
        if (results.Any(r => r.State == CoverageState.Failing))
        {
            return results.First(r => r.State == CoverageState.Failing);
        }

        if (results.Any(r => r.State == CoverageState.Synced))
        {
            return (CoverageState.Synced, null);
        }

        if (results.All(r => r.State == CoverageState.Empty))
        {
            return (CoverageState.Empty, null);
        }

        // Fan-out values a server refuses (an unknown category) do not make a type unsupported when others worked.
        return results.Any(r => r.State == CoverageState.Empty) ? (CoverageState.Empty, null) : results[0];
    }

    /// <summary>
    /// One search followed page by page; an expired <c>next</c> link restarts it (what was stored stays, counted once).
    /// Each page is fetched and parsed on its own; it is stored, and the run's state touched, in the scope's database turn.
    /// </summary>
    /// <param name="stopping">Set when another search of the run failed: this one stops before its next page.</param>
    private async Task<(CoverageState State, string? Detail)> SearchAsync(
        Connection connection, Provider provider, Uri baseUrl, SyncPlan plan, SearchSpec search, IReadOnlyList<KeyValuePair<string, string>> variant,
        string patientId, DateTimeOffset? since, RunState state, CancellationToken stopping, CancellationToken cancellationToken)
    {
        var pageSize = options.Value.MaxPageSize is { } cap && cap > 0 ? Math.Min(cap, plan.PageSize) : plan.PageSize;
        var query = new List<KeyValuePair<string, string?>> { new("patient", patientId), new("_count", pageSize.ToString(System.Globalization.CultureInfo.InvariantCulture)) };
        query.AddRange(variant.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)));
        if (since is { } t)
        {
            query.Add(new("_lastUpdated", "ge" + t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture)));
        }

        if (search.Include is { } include)
        {
            query.Add(new("_include", include));
        }

        var first = new Uri(QueryHelpers.AddQueryString(new Uri(baseUrl, search.ResourceType).AbsoluteUri, query));
        var restarts = 0;
        var url = first;
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var found = 0;
        while (true)
        {
            if (!visited.Add(url.AbsoluteUri) || visited.Count > options.Value.MaxPagesPerSearch)
            {
                // A next link that points back to a page already read: the search is done.
                break;
            }

            stopping.ThrowIfCancellationRequested();
            var answer = await fhir.GetAsync(connection.Id, url, provider, cancellationToken);
            if (!answer.IsSuccess)
            {
                var firstPage = url == first;
                if (!firstPage && answer.Status is HttpStatusCode.Gone or HttpStatusCode.BadRequest or HttpStatusCode.NotFound && restarts < 2)
                {
                    // The server forgot our place (an expired paging link): start the search again.
                    restarts++;
                    url = first;
                    visited.Clear();
                    continue;
                }

                return firstPage && answer.Status == HttpStatusCode.Forbidden ? (CoverageState.Refused, answer.Describe())
                    : firstPage && answer.Status is HttpStatusCode.BadRequest or HttpStatusCode.NotFound or HttpStatusCode.NotImplemented or HttpStatusCode.MethodNotAllowed
                        ? (CoverageState.Unsupported, answer.Describe())
                    : (CoverageState.Failing, answer.Describe());
            }

            SearchPage page;
            try
            {
                page = SearchPage.Parse(answer.Body);
            }
            catch (JsonException)
            {
                return (CoverageState.Failing, "A page was not a readable FHIR Bundle.");
            }

            using (await turns.TakeAsync(cancellationToken))
            {
                state.ProviderClock ??= answer.ServerDate;
                state.For(search.ResourceType).Pages++;
                found += await StorePageAsync(state, search.ResourceType, page.Entries, provider.FhirVersion, answer.Body.Length, cancellationToken);
                if (clock.GetUtcNow() - state.LastProgressAt >= options.Value.ProgressInterval)
                {
                    await ReportProgressAsync(state, cancellationToken, resourceType: search.ResourceType);
                }
            }

            if (page.NextLink is not { Length: > 0 } next)
            {
                break;
            }

            // Follow next as given: an absolute link as it is, a relative one against the FHIR base (host-relative ones
            // too, unless they already name the base's path). Never to another host, though: the request carries the
            // patient's access token.
            // A query-only link ("?page=2") continues the page that gave it.
            if ((next.StartsWith('?') ? new Uri(url, next) : ProviderUrls.Resolve(baseUrl, next)) is not { } resolved)
            {
                return (CoverageState.Failing, "A next link was not a web address; the search stopped there.");
            }

            url = resolved;
            if (!SameOrigin(url, baseUrl))
            {
                return (CoverageState.Failing, "A next link pointed to another host; it was not followed.");
            }
        }

        return found > 0 ? (CoverageState.Synced, null) : (CoverageState.Empty, null);
    }

    /// <summary>Stores a page: the searched type's resources count toward it; included ones toward their own type.</summary>
    private static async Task<int> StorePageAsync(RunState state, string searchedType, IReadOnlyList<PageEntry> entries, FhirVersion version, long bytes, CancellationToken cancellationToken)
    {
        var own = entries.Count(e => e.ResourceType == searchedType || e.ResourceType is null);
        foreach (var group in entries.GroupBy(e => e.ResourceType == searchedType || e.ResourceType is null ? searchedType : e.ResourceType!))
        {
            await StoreAsync(state, group.Key, group.ToList(), version, group.Key == searchedType ? bytes : 0, cancellationToken);
        }

        return own;
    }

    private static async Task StoreAsync(RunState state, string countedType, List<PageEntry> entries, FhirVersion version, long bytes, CancellationToken cancellationToken)
    {
        var counts = state.For(countedType);
        counts.Bytes += bytes;
        var batch = new List<IncomingResource>(entries.Count);
        foreach (var entry in entries)
        {
            counts.Fetched++;
            var incoming = SourceConversion.Prepare(entry, countedType, version);
            if (incoming.SetAside)
            {
                counts.Malformed++;
                state.SetAside++;
            }

            // A resource on two pages (or in two fan-outs) is stored and counted once.
            if (!state.Written.Add((incoming.ResourceType, incoming.ResourceId)))
            {
                continue;
            }

            batch.Add(incoming);
            state.References.UnionWith(entry.References);
            state.Attachments.UnionWith(entry.AttachmentUrls);
        }

        BatchResult result;
        using (Observability.SyncTracing.Source.StartActivity(Observability.SyncTracing.StorePage))
        {
            result = await state.Writer.WriteAsync(batch, cancellationToken);
        }

        counts.New += result.New;
        counts.Changed += result.Changed;
        counts.Unchanged += result.Unchanged;
    }

    /// <summary>Reads the Practitioners, Organizations, Locations and Medications the stored resources point to, once each.</summary>
    private async Task ReadReferencedAsync(Connection connection, Provider provider, Uri baseUrl, SyncPlan plan, RunState state, CancellationToken cancellationToken)
    {
        var wanted = new HashSet<string>(plan.ReferencedTypes, StringComparer.Ordinal);
        var targets = state.References
            .Select(r => r.Split('/'))
            .Where(parts => parts.Length == 2 && wanted.Contains(parts[0]) && !state.Written.Contains((parts[0], parts[1])))
            .Select(parts => (Type: parts[0], Id: parts[1]))
            .Distinct()
            .ToList();
        if (targets.Count == 0)
        {
            return;
        }

        // What the connection already holds, the run's writer knows: it read every key as the run began.
        foreach (var (type, id) in (await state.Writer.NotHeldAsync(targets, cancellationToken)).Take(options.Value.MaxReferencedReads))
        {
            var answer = await fhir.GetAsync(connection.Id, new Uri(baseUrl, $"{type}/{Uri.EscapeDataString(id)}"), provider, cancellationToken);
            var counts = state.For(type);
            if (!answer.IsSuccess)
            {
                counts.Detail = "Some referenced resources could not be read: " + answer.Describe();
                continue;
            }

            using var document = JsonDocument.Parse(answer.Body);
            await StoreAsync(state, type, [SearchPage.Entry(document.RootElement)], provider.FhirVersion, answer.Body.Length, cancellationToken);
            counts.Pages++;
            counts.Outcome = CoverageState.Synced;
        }
    }

    /// <summary>
    /// Document content the resources point to on the same server (Attachment urls, Binary) is read
    /// once per url, size-capped, and stored as a Binary resource under <see cref="ProviderUrls.DocumentId"/>;
    /// inline data stays where it is. Urls on other hosts are never followed.
    /// </summary>
    private async Task ReadDocumentsAsync(Connection connection, Provider provider, Uri baseUrl, RunState state, CancellationToken cancellationToken)
    {
        var documents = state.Attachments
            .Select(written => (Url: ProviderUrls.Resolve(baseUrl, written), Id: ProviderUrls.DocumentId(written)))
            .Where(d => d.Url is not null && SameOrigin(baseUrl, d.Url))
            .Select(d => (Url: d.Url!, d.Id))
            .DistinctBy(d => d.Id)
            .ToList();
        if (documents.Count == 0)
        {
            return;
        }

        var missing = (await state.Writer.NotHeldAsync(documents.Select(d => ("Binary", d.Id)), cancellationToken)).Select(k => k.Id).ToHashSet(StringComparer.Ordinal);
        var counts = state.For("Binary");
        foreach (var (url, id) in documents.Where(d => missing.Contains(d.Id) && !state.Written.Contains(("Binary", d.Id))).Take(options.Value.MaxReferencedReads))
        {
            var answer = await fhir.GetAsync(connection.Id, url, provider, cancellationToken);
            if (!answer.IsSuccess || answer.Body.Length > options.Value.MaxDocumentBytes)
            {
                counts.Detail = answer.IsSuccess ? $"A document over {options.Value.MaxDocumentBytes} bytes was not fetched." : "Some documents could not be read: " + answer.Describe();
                continue;
            }

            counts.Pages++;
            counts.Outcome = CoverageState.Synced;
            await StoreAsync(state, "Binary", [DocumentEntry(id, answer)], provider.FhirVersion, answer.Body.Length, cancellationToken);
        }
    }

    /// <summary>A Binary resource as served, or the raw content wrapped as one.</summary>
    private static PageEntry DocumentEntry(string id, FhirAnswer answer)
    {
        try
        {
            using var document = JsonDocument.Parse(answer.Body);
            if (Domain.Fhir.ResourceShape.Type(document.RootElement) == "Binary")
            {
                // Kept under the id the url gives (what the content endpoint and the next sync look for), whatever
                // id the Binary itself carries.
                return SearchPage.Entry(document.RootElement) with { ResourceId = id };
            }
        }
        catch (JsonException)
        {
            // Not FHIR JSON: the content itself.
        }

        var wrapped = new System.Text.Json.Nodes.JsonObject
        {
            ["resourceType"] = "Binary",
            ["id"] = id,
            ["contentType"] = answer.ContentType ?? "application/octet-stream",
            ["data"] = Convert.ToBase64String(answer.Body),
        };
        using var wrappedDocument = JsonDocument.Parse(wrapped.ToJsonString());
        return SearchPage.Entry(wrappedDocument.RootElement);
    }

    /// <summary>The same scheme, host and port: where the patient's access token may go.</summary>
    private static bool SameOrigin(Uri a, Uri b) =>
        string.Equals(a.GetLeftPart(UriPartial.Authority), b.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase);

    private async Task FinishAsync(SyncRun run, Connection connection, RunState state, bool full, CancellationToken cancellationToken)
    {
        if (full)
        {
            foreach (var (type, deleted) in await state.Writer.MarkUnseenDeletedAsync(state.FullyFetched, cancellationToken))
            {
                state.For(type).Deleted = deleted;
            }
        }

        // The merged record is rebuilt before the run says it is done (the rebuild saves through the same context,
        // so the run's outcome is set only afterwards). The writer's keys are not needed for it.
        state.Writer.Release();
        foreach (var rebuilder in rebuilders)
        {
            await rebuilder.RebuildAsync(connection.PatientId, cancellationToken);
        }

        var failing = state.Counts.Values.Any(c => c.Outcome == CoverageState.Failing);
        run.Status = failing || state.SetAside > 0 ? SyncRunStatus.Partial : SyncRunStatus.Succeeded;
        run.Error = failing ? "Some resource types could not be read completely; what was read is stored." : state.SetAside > 0 ? $"{state.SetAside} malformed resources were set aside." : null;

        connection.LastSuccessAt = clock.GetUtcNow();
        connection.LastError = null;
        if (state.ProviderClock is { } providerClock)
        {
            connection.LastSuccessProviderTime = providerClock;
        }

        if (full && !failing)
        {
            connection.LastFullSyncAt = clock.GetUtcNow();
        }
    }

    /// <summary>
    /// Records the run's per-type counts so far (what <c>GET sync-runs</c> shows while it runs) and tells the
    /// patient's event stream, unless the connection is still quarantined.
    /// </summary>
    private async Task ReportProgressAsync(RunState state, CancellationToken cancellationToken, string? resourceType = null)
    {
        state.LastProgressAt = clock.GetUtcNow();
        var counts = JsonSerializer.Serialize(state.Counts, SyncCountsJson.Options);
        await db.SyncRuns.Where(r => r.Id == state.Run.Id).ExecuteUpdateAsync(set => set.SetProperty(r => r.TypeCounts, counts), cancellationToken);
        if (await IsConfirmedAsync(state.Connection.Id, cancellationToken))
        {
            await events.AppendAsync(state.Connection.PatientId, Domain.Events.PatientEventTypes.SyncProgress, new
            {
                connectionId = state.Connection.Id,
                syncRunId = state.Run.Id,
                resourceType,
                resourcesSoFar = state.ResourcesSoFar,
                types = state.Counts.ToDictionary(c => c.Key, c => c.Value.Fetched, StringComparer.Ordinal),
            }, cancellationToken);
        }
    }

    /// <summary>
    /// Saves the run's outcome. The connection row may have changed while the run went on (confirmed, disconnected,
    /// re-authorised): then what the run set wins for the fields it set, and the row keeps everything else as it now is.
    /// A row deleted meanwhile (an unconfirmed binding swept, a purge) is left deleted.
    /// </summary>
    private async Task SaveKeepingOthersChangesAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return;
            }
            catch (DbUpdateConcurrencyException conflict) when (attempt < 3)
            {
                foreach (var entry in conflict.Entries)
                {
                    var current = await entry.GetDatabaseValuesAsync(cancellationToken);
                    if (current is null)
                    {
                        entry.State = EntityState.Detached;
                        continue;
                    }

                    foreach (var property in entry.Properties.Where(p => !p.IsModified))
                    {
                        property.CurrentValue = current[property.Metadata];
                    }

                    entry.OriginalValues.SetValues(current);
                }
            }
        }
    }

    private Task<bool> IsConfirmedAsync(Guid connectionId, CancellationToken cancellationToken) =>
        db.Connections.AnyAsync(c => c.Id == connectionId && c.ConfirmedAt != null, cancellationToken);

    private static void Fail(SyncRun run, string reason)
    {
        run.Status = SyncRunStatus.Failed;
        run.Error = reason;
    }

    private async Task UpdateCoverageAsync(Connection connection, RunState state, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var existing = await db.Coverage.Where(c => c.ConnectionId == connection.Id).ToDictionaryAsync(c => c.ResourceType, StringComparer.Ordinal, cancellationToken);
        // Every type's count in one query, not one round trip per type of the plan.
        var stored = await db.SourceResources.Where(r => r.ConnectionId == connection.Id && r.DeletedAt == null)
            .GroupBy(r => r.ResourceType).Select(g => new { Type = g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Type, g => g.Count, StringComparer.Ordinal, cancellationToken);
        foreach (var (type, counts) in state.Counts)
        {
            if (!existing.TryGetValue(type, out var entry))
            {
                entry = new CoverageEntry { TenantId = connection.TenantId, ConnectionId = connection.Id, ResourceType = type, State = counts.Outcome, Since = now };
                db.Coverage.Add(entry);
            }
            else if (entry.State != counts.Outcome && !(counts.Outcome == CoverageState.Empty && entry.State == CoverageState.Synced && counts.New + counts.Unchanged + counts.Changed == 0 && counts.Fetched == 0 && entry.Count > 0))
            {
                entry.State = counts.Outcome;
                entry.Since = now;
            }

            entry.CheckedAt = now;
            entry.Detail = counts.Detail;
            entry.Count = stored.GetValueOrDefault(type);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sync run {SyncRunId} of connection {ConnectionId} at {Provider} started")]
    private static partial void LogStarted(ILogger logger, Guid syncRunId, Guid connectionId, string provider);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sync run {SyncRunId} stopped on an internal error")]
    private static partial void LogCrashed(ILogger logger, Exception exception, Guid syncRunId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sync run {SyncRunId} finished {Status} in {DurationMs} ms")]
    private static partial void LogFinished(ILogger logger, Guid syncRunId, SyncRunStatus status, long durationMs);

    /// <summary>What one run has done so far.</summary>
    private sealed class RunState(ResourceBatchWriter writer, SyncRun run, Connection connection)
    {
        public ResourceBatchWriter Writer { get; } = writer;
        public SyncRun Run { get; } = run;
        public Connection Connection { get; } = connection;
        public DateTimeOffset LastProgressAt { get; set; }
        public int ResourcesSoFar => Counts.Values.Sum(c => c.Fetched);

        public Dictionary<string, TypeCounts> Counts { get; } = new(StringComparer.Ordinal);
        public HashSet<(string Type, string Id)> Written { get; } = [];
        public HashSet<string> References { get; } = new(StringComparer.Ordinal);
        public HashSet<string> Attachments { get; } = new(StringComparer.Ordinal);
        public HashSet<string> FullyFetched { get; } = new(StringComparer.Ordinal);
        public DateTimeOffset? ProviderClock { get; set; }
        public int SetAside { get; set; }

        public TypeCounts For(string type) => Counts.TryGetValue(type, out var counts) ? counts : Counts[type] = new TypeCounts();
    }
}

/// <summary>A run that cannot go on; its reason is recorded on the run.</summary>
public sealed class SyncFailedException(string message) : Exception(message);
