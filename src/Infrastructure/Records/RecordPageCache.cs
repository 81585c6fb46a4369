using System.Collections.Concurrent;
using Aggregator.Infrastructure.Notifications;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Aggregator.Infrastructure.Records;

public sealed class RecordCacheOptions
{
    public const string Section = "RecordCache";

    /// <summary>Memory the cached pages may use, in bytes.</summary>
    public long SizeLimitBytes { get; set; } = 64 * 1024 * 1024;
}

/// <summary>A rendered page of a patient's record, as it was at one record version.</summary>
public sealed record CachedPage(Guid TenantId, long Version, string Body, string ETag);

/// <summary>
/// Hot record pages from memory: a record changes only when a sync of the patient finishes, so a page
/// is good until the patient's record version moves. The rebuild announces each new version with
/// NOTIFY; every replica hears it and stops serving older pages. A hit touches no database. After a
/// lost listener connection everything is dropped, since announcements may have been missed.
/// </summary>
public sealed class RecordPageCache : IDisposable
{
    private readonly MemoryCache _pages;
    private readonly ConcurrentDictionary<Guid, long> _versions = new();

    public RecordPageCache(IOptions<RecordCacheOptions> options, DatabaseNotifications notifications)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(notifications);
        _pages = new MemoryCache(new MemoryCacheOptions { SizeLimit = options.Value.SizeLimitBytes });
        notifications.Subscribe(NotificationChannels.RecordChanged, OnRecordChanged);
    }

    /// <summary>The page for this patient and query, if it is of the record version last announced.</summary>
    public bool TryGet(Guid tenantId, Guid patientId, string query, out CachedPage page)
    {
        page = default!;
        return _versions.TryGetValue(patientId, out var version)
            && _pages.TryGetValue((patientId, query), out CachedPage? cached)
            && cached is not null && cached.Version == version && cached.TenantId == tenantId
            && (page = cached) is not null;
    }

    /// <summary>Keeps a page read from the database at <paramref name="page"/>'s version.</summary>
    public void Set(Guid patientId, string query, CachedPage page)
    {
        ArgumentNullException.ThrowIfNull(page);
        var known = _versions.AddOrUpdate(patientId, page.Version, (_, current) => Math.Max(current, page.Version));
        if (known == page.Version)
        {
            _pages.Set((patientId, query), page, new MemoryCacheEntryOptions { Size = page.Body.Length * sizeof(char) });
        }
    }

    public void Dispose() => _pages.Dispose();

    private void OnRecordChanged(string payload)
    {
        if (payload == NotificationChannels.Everything)
        {
            _versions.Clear();
            _pages.Clear();
            return;
        }

        var parts = payload.Split(':');
        if (parts.Length == 2 && Guid.TryParse(parts[0], out var patientId) && long.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var version))
        {
            // Pages of older versions stop matching at once; the cache's size limit reclaims them.
            _versions.AddOrUpdate(patientId, version, (_, current) => Math.Max(current, version));
        }
    }
}
