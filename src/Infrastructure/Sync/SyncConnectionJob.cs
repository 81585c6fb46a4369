using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Aggregator.Domain.Connections;
using Aggregator.Domain.Providers;
using Aggregator.Domain.Sync;
using Aggregator.Infrastructure.Connections;
using Aggregator.Infrastructure.Jobs;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Tenants;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Aggregator.Infrastructure.Sync;

/// <summary>
/// One sync run of one connection. So far: makes sure the grant works (refreshing the token when
/// needed) and stores the patient's own Patient resource; the sync plan over every resource type
/// builds on this. Safe to run twice: a finished run is not run again.
/// </summary>
public sealed partial class SyncConnectionJob(
    AggregatorDbContext db,
    CurrentTenant tenant,
    ProviderFhirClient fhir,
    TimeProvider clock,
    ILogger<SyncConnectionJob> logger)
{
    [Queue(JobQueues.Sync)]
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(Guid syncRunId, CancellationToken cancellationToken)
    {
        var run = await db.SyncRuns.IgnoreQueryFilters().SingleOrDefaultAsync(r => r.Id == syncRunId, cancellationToken);
        if (run is null || run.Status is SyncRunStatus.Succeeded or SyncRunStatus.Partial or SyncRunStatus.Failed)
        {
            return;
        }

        tenant.Set(run.TenantId);
        var started = Stopwatch.StartNew();
        run.Status = SyncRunStatus.Running;
        run.StartedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);

        var connection = await db.Connections.SingleAsync(c => c.Id == run.ConnectionId, cancellationToken);
        try
        {
            var provider = await db.Providers.AsNoTracking().SingleAsync(p => p.Id == connection.ProviderId, cancellationToken);
            var url = new Uri(new Uri(provider.FhirBaseUrl.EndsWith('/') ? provider.FhirBaseUrl : provider.FhirBaseUrl + "/"), $"Patient/{Uri.EscapeDataString(connection.ProviderPatientId!)}");
            using var response = await fhir.GetAsync(connection.Id, url, provider.FhirVersion, cancellationToken);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            run.Pages = 1;
            run.Bytes = body.Length;
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"Patient read answered {(int)response.StatusCode}.");
            }

            var outcome = await StoreAsync(connection, provider.FhirVersion, "Patient", connection.ProviderPatientId!, body, cancellationToken);
            run.TypeCounts = JsonSerializer.Serialize(new Dictionary<string, object> { ["Patient"] = new { fetched = 1, @new = outcome == "new" ? 1 : 0, changed = outcome == "changed" ? 1 : 0, unchanged = outcome == "unchanged" ? 1 : 0 } });
            run.Status = SyncRunStatus.Succeeded;
            connection.LastSuccessAt = clock.GetUtcNow();
        }
        catch (ReauthorizationRequiredException)
        {
            run.Status = SyncRunStatus.Failed;
            run.Error = "reauth_required: the patient must reconnect.";
            await db.Entry(connection).ReloadAsync(cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            run.Status = SyncRunStatus.Failed;
            run.Error = ex.Message;
            LogFailed(logger, run.Id, connection.Id, ex.Message);
        }

        connection.LastSyncAt = clock.GetUtcNow();
        run.FinishedAt = clock.GetUtcNow();
        run.DurationMs = started.ElapsedMilliseconds;
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Inserts or updates one resource; unchanged content (same hash) only touches last_seen.</summary>
    private async Task<string> StoreAsync(Connection connection, FhirVersion version, string type, string id, byte[] body, CancellationToken cancellationToken)
    {
        var hash = SHA256.HashData(body);
        var json = System.Text.Encoding.UTF8.GetString(body);
        using var document = JsonDocument.Parse(body);
        var meta = document.RootElement.TryGetProperty("meta", out var m) ? m : default;
        var lastUpdated = meta.ValueKind == JsonValueKind.Object && meta.TryGetProperty("lastUpdated", out var lu) && lu.TryGetDateTimeOffset(out var at) ? at : (DateTimeOffset?)null;
        var versionId = meta.ValueKind == JsonValueKind.Object && meta.TryGetProperty("versionId", out var v) ? v.GetString() : null;
        var now = clock.GetUtcNow();
        var existing = await db.SourceResources.SingleOrDefaultAsync(r => r.ConnectionId == connection.Id && r.ResourceType == type && r.ResourceId == id, cancellationToken);
        if (existing is null)
        {
            db.SourceResources.Add(new SourceResource
            {
                TenantId = connection.TenantId,
                ConnectionId = connection.Id,
                ResourceType = type,
                ResourceId = id,
                // DSTU2 is kept as received until its conversion to R4 is in place.
                Resource = version == FhirVersion.R4 ? json : null,
                Original = version == FhirVersion.Dstu2 ? json : null,
                VersionId = versionId,
                LastUpdated = lastUpdated,
                ContentHash = hash,
                FirstSeenAt = now,
                LastSeenAt = now,
            });
            return "new";
        }

        existing.LastSeenAt = now;
        existing.DeletedAt = null;
        if (existing.ContentHash.AsSpan().SequenceEqual(hash))
        {
            return "unchanged";
        }

        existing.Resource = version == FhirVersion.R4 ? json : null;
        existing.Original = version == FhirVersion.Dstu2 ? json : null;
        existing.ContentHash = hash;
        existing.VersionId = versionId;
        existing.LastUpdated = lastUpdated;
        return "changed";
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sync run {SyncRunId} of connection {ConnectionId} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, Guid syncRunId, Guid connectionId, string reason);
}
