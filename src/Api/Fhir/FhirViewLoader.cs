using System.Diagnostics.CodeAnalysis;
using Aggregator.Api.Auditing;
using Aggregator.Api.Authentication;
using Aggregator.Api.Records;
using Aggregator.Domain.Records;
using Aggregator.Infrastructure.Connections;
using Aggregator.Infrastructure.Notifications;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Records;
using Aggregator.Infrastructure.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Aggregator.Api.Fhir;

/// <summary>Loads (or finds in the record cache) the FHIR view of a patient for one request.</summary>
public sealed class FhirViewLoader(
    AggregatorDbContext db, FhirRecordViewReader reader, RecordPageCache cache, FhirViewCache views, CurrentTenant tenant, IOptions<ApiPublicOptions> options)
{
    /// <param name="render">Renders the response body from the view, or null when what was asked for is not there.</param>
    public async Task<IResult> RespondAsync(
        HttpContext http, Guid patientId, string query, Func<FhirRecordView, string, string?> render, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(render);
        var baseUrl = PublicUrls.Base(http, options.Value);
        var cacheKey = "fhir:" + baseUrl + ":" + query;
        if (!PatientAccess.Allows(http.User, patientId))
        {
            return PatientMissing();
        }

        http.Items[AuditEndpoints.PatientItem] = patientId;
        var generation = cache.Generation; // before the read: a page read while the cache forgets is not kept
        if (cache.TryGet(tenant.Required, patientId, cacheKey, out var hit))
        {
            return Answer(http, hit.Body, hit.ETag);
        }

        var version = await db.Patients.AsNoTracking().Where(p => p.Id == patientId).Select(p => (long?)p.RecordVersion).SingleOrDefaultAsync(cancellationToken);
        if (version is null)
        {
            return PatientMissing();
        }

        var etag = RecordEndpoints.ETag(version.Value, cacheKey);
        if (http.Request.Headers.IfNoneMatch.Contains(etag))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        var view = await ViewAsync(patientId, version.Value, baseUrl, cancellationToken);
        var body = render(view, baseUrl);
        if (body is null)
        {
            return FhirEndpoints.Outcome(StatusCodes.Status404NotFound, "not-found", "No such resource in this patient's record.");
        }

        cache.Set(patientId, cacheKey, new CachedPage(tenant.Required, version.Value, body, etag), generation);
        return Answer(http, body, etag);
    }

    /// <summary>
    /// The patient's FHIR view at a record version, built once per version and reused by every query and read of it
    /// (building loads every source resource).
    /// </summary>
    public async Task<FhirRecordView> ViewAsync(Guid patientId, long version, string baseUrl, CancellationToken cancellationToken)
    {
        var viewKey = (tenant.Required, patientId, version, baseUrl);
        if (!views.TryGet(viewKey, out var view))
        {
            view = await reader.ReadAsync(patientId, includeRetracted: false, item => $"{baseUrl}/v1/patients/{patientId}/documents/{item}/content", cancellationToken);
            views.Set(viewKey, view);
        }

        return view;
    }

    private static IResult Answer(HttpContext http, string body, string etag) =>
        http.Request.Headers.IfNoneMatch.Contains(etag) ? TypedResults.StatusCode(StatusCodes.Status304NotModified) : FhirEndpoints.Respond(http, body, etag: etag);

    private static IResult PatientMissing() => FhirEndpoints.Outcome(StatusCodes.Status404NotFound, "not-found", "No such patient.");
}

/// <summary>
/// The last few FHIR views built, by tenant, patient, record version and base url (a new version is a new key). A deleted
/// patient's views leave memory when the deletion is announced (they could no longer be reached: every read looks the
/// patient up first).
/// </summary>
public sealed class FhirViewCache : IDisposable
{
    private readonly MemoryCache _views = new(new MemoryCacheOptions { SizeLimit = 16 });

    public FhirViewCache(DatabaseNotifications notifications)
    {
        ArgumentNullException.ThrowIfNull(notifications);
        notifications.Subscribe(NotificationChannels.RecordChanged, payload =>
        {
            if (payload == NotificationChannels.Everything)
            {
                _views.Clear();
            }
            else if (RecordPageCache.IsDeletedNotice(payload, out var patientId))
            {
                foreach (var key in _views.Keys)
                {
                    if (key is ValueTuple<Guid, Guid, long, string> view && view.Item2 == patientId)
                    {
                        _views.Remove(key);
                    }
                }
            }
        });
    }

    public bool TryGet((Guid Tenant, Guid Patient, long Version, string BaseUrl) key, [NotNullWhen(true)] out FhirRecordView? view) =>
        _views.TryGetValue(key, out view) && view is not null;

    public void Set((Guid Tenant, Guid Patient, long Version, string BaseUrl) key, FhirRecordView view) =>
        _views.Set(key, view, new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = TimeSpan.FromMinutes(5) });

    public void Dispose() => _views.Dispose();
}
