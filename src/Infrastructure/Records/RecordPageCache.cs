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

    /// <summary>How many pages may be cached, however small (each is charged at least <c>SizeLimitBytes / MaxEntries</c>).</summary>
    public int MaxEntries { get; set; } = 100_000;

    /// <summary>
    /// Off: no page is kept, and every read is answered from the database (the rebuild's first pages and summary, or a
    /// query). For measuring those paths, or ruling the cache out when diagnosing.
    /// </summary>
    public bool Enabled { get; set; } = true;
}

/// <summary>A rendered page of a patient's record, as it was at one record version: kept as the UTF-8 bytes it is sent as, so a hit encodes nothing.</summary>
public sealed record CachedPage(Guid TenantId, long Version, byte[] Utf8Body, string ETag)
{
    public CachedPage(Guid tenantId, long version, string body, string etag)
        : this(tenantId, version, System.Text.Encoding.UTF8.GetBytes(body), etag)
    {
    }
}

/// <summary>
/// Hot record pages from memory: a record changes only when a sync of the patient finishes, so a page
/// is good until the patient's record version moves. The rebuild announces each new version with
/// NOTIFY; every replica hears it and stops serving older pages. A hit touches no database. After a
/// lost listener connection everything is dropped, since announcements may have been missed. A deleted patient is
/// announced the same way (<see cref="DeletedNotice"/>): its pages are dropped and none is kept again. The record's
/// summary also lists the patient's sources and their sync state, which change without the record: the database
/// announces those changes too (<see cref="SourcesNotice"/>, sent by a trigger on <c>connections</c>), and a summary
/// is kept only while no such announcement was heard since it was read (<see cref="SourcesStamp"/>). Pages most reads
/// never ask for again (a filtered page, a later page) are kept only from their second read, so one-off queries do not
/// push the hot pages out.
/// </summary>
public sealed class RecordPageCache : IDisposable
{
    /// <summary>A version heard this long ago may be forgotten: no read that began before it is still running.</summary>
    private static readonly TimeSpan VersionMemory = TimeSpan.FromMinutes(2);

    /// <summary>The version a deleted patient is remembered at: newer than any page, so none matches or is kept again.</summary>
    private const long DeletedVersion = long.MaxValue;

    private const string DeletedMarker = "deleted";

    private const string SourcesMarker = "sources";

    /// <summary>The cache key of a patient's record summary: the one page that depends on its sources' state.</summary>
    public const string SummaryKey = "summary";

    /// <summary>Slots of the doorkeeper that remembers which pages were offered once (a power of two; 256 KB).</summary>
    private const int OfferedSlots = 1 << 16;

    private readonly MemoryCache _pages;
    private readonly int[] _offered = new int[OfferedSlots];
    private readonly ConcurrentDictionary<Guid, (long Version, DateTimeOffset HeardAt)> _versions = new();
    private readonly ConcurrentDictionary<Guid, (long Stamp, DateTimeOffset HeardAt)> _sourcesStamps = new();
    private readonly TimeProvider _clock;
    private readonly Observability.AggregatorMetrics _metrics;
    private readonly int _maxEntries;
    private readonly bool _enabled;
    private readonly long _entryCharge;
    private readonly Lock _trimming = new();
    private long _generation;
    private long _sourcesCounter;

    public RecordPageCache(IOptions<RecordCacheOptions> options, DatabaseNotifications notifications, Observability.AggregatorMetrics metrics, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _metrics = metrics;
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(notifications);
        _clock = clock;
        _maxEntries = Math.Max(1, options.Value.MaxEntries);
        _enabled = options.Value.Enabled;
        // Every entry costs at least this much of the size limit, so the limit bounds the count as well as the bytes.
        _entryCharge = Math.Max(1, options.Value.SizeLimitBytes / _maxEntries);
        _pages = new MemoryCache(new MemoryCacheOptions { SizeLimit = options.Value.SizeLimitBytes });
        notifications.Subscribe(NotificationChannels.RecordChanged, OnRecordChanged);
    }

    /// <summary>
    /// Moves whenever the cache forgets what versions it heard (a flood of patients, a lost listener). Take it before
    /// reading a page from the database and hand it to <see cref="Set"/>: a page read before the cache forgot may be of a
    /// version older than one announced meanwhile, and is not kept.
    /// </summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>
    /// Moves whenever this patient's sources may have changed (a sync finished, a connection was confirmed, needs the
    /// patient again, or was revoked or purged). Take it before reading the summary from the database and hand it to
    /// <see cref="Set"/>: a summary read before such a change is not kept. Never repeats a value once given.
    /// </summary>
    public long SourcesStamp(Guid patientId) => _sourcesStamps.TryGetValue(patientId, out var heard) ? heard.Stamp : 0;

    /// <summary>Pages held right now.</summary>
    public long Entries => _pages.Count;

    /// <summary>Patients whose record version is remembered right now.</summary>
    public int TrackedPatients => _versions.Count;

    /// <summary>The page for this patient and query, if it is of the record version last announced.</summary>
    public bool TryGet(Guid tenantId, Guid patientId, string query, out CachedPage page)
    {
        page = default!;
        var hit = _enabled && _versions.TryGetValue(patientId, out var version)
            && _pages.TryGetValue((patientId, query), out CachedPage? cached)
            && cached is not null && cached.Version == version.Version && cached.TenantId == tenantId
            && (page = cached) is not null;
        _metrics.CacheRequest(hit);
        return hit;
    }

    /// <summary>
    /// Keeps a page read from the database at <paramref name="page"/>'s version, unless the cache forgot since
    /// <paramref name="generation"/> or, for a page that shows the sources' state (<paramref name="sourcesStamp"/>, from
    /// <see cref="SourcesStamp"/> before the read), the sources changed since.
    /// </summary>
    /// <param name="fromSecondRead">
    /// Kept only when the same page was offered before (a filtered page, a later page): most such reads are never asked
    /// for again, and keeping each would push the hot pages (the summary, first pages) out and keep the garbage collector
    /// busy with pages nobody reads. The first pages of a record are kept at their first read.
    /// </param>
    public void Set(Guid patientId, string query, CachedPage page, long generation, long? sourcesStamp = null, bool fromSecondRead = false)
    {
        ArgumentNullException.ThrowIfNull(page);
        if (!_enabled || generation != Generation || (sourcesStamp is { } before && SourcesStamp(patientId) != before) || Remember(patientId, page.Version) != page.Version)
        {
            return;
        }

        if (fromSecondRead && !OfferedBefore(patientId, query))
        {
            return;
        }

        _pages.Set((patientId, query), page, new MemoryCacheEntryOptions { Size = Math.Max(_entryCharge, page.Utf8Body.LongLength) });
        if (generation != Generation
            || (sourcesStamp is { } stamp && SourcesStamp(patientId) != stamp)
            || (_versions.TryGetValue(patientId, out var heard) && heard.Version != page.Version))
        {
            // Forgotten, outdated or deleted while it was stored: it may be older than what was announced meanwhile.
            _pages.Remove((patientId, query));
        }
    }

    /// <summary>
    /// Whether this page was offered before, as far as a fixed table of hashes remembers (bounded, without locks): a
    /// collision at worst keeps a page at its first read or forgets one was offered, never serves a wrong page.
    /// </summary>
    private bool OfferedBefore(Guid patientId, string query)
    {
        var hash = HashCode.Combine(patientId, query) | 1; // never 0, an empty slot
        return Interlocked.Exchange(ref _offered[hash & (OfferedSlots - 1)], hash) == hash;
    }

    /// <summary>The <see cref="NotificationChannels.RecordChanged"/> payload that tells every replica a patient was deleted.</summary>
    public static string DeletedNotice(Guid patientId) => $"{patientId}:{DeletedMarker}";

    /// <summary>The <see cref="NotificationChannels.RecordChanged"/> payload that says a patient's sources may have changed.</summary>
    public static string SourcesNotice(Guid patientId) => $"{patientId}:{SourcesMarker}";

    /// <summary>Whether a <see cref="NotificationChannels.RecordChanged"/> payload announces a deleted patient, and which.</summary>
    public static bool IsDeletedNotice(string payload, out Guid patientId)
    {
        ArgumentNullException.ThrowIfNull(payload);
        patientId = default;
        return payload.EndsWith(":" + DeletedMarker, StringComparison.Ordinal)
            && Guid.TryParse(payload.AsSpan(0, payload.Length - DeletedMarker.Length - 1), out patientId);
    }

    /// <summary>
    /// A deleted patient's pages stop being served at once and leave memory; a read that began before the deletion keeps
    /// nothing it read. On every replica by the notice (the one that deleted hears it before it answers).
    /// </summary>
    private void PatientDeleted(Guid patientId)
    {
        Remember(patientId, DeletedVersion);
        foreach (var key in _pages.Keys)
        {
            if (key is ValueTuple<Guid, string> page && page.Item1 == patientId)
            {
                _pages.Remove(key);
            }
        }
    }

    /// <summary>A new stamp first (a summary being stored checks it again after), then the summary goes.</summary>
    private void SourcesChanged(Guid patientId)
    {
        var stamp = Interlocked.Increment(ref _sourcesCounter);
        _sourcesStamps[patientId] = (stamp, _clock.GetUtcNow());
        _pages.Remove((patientId, SummaryKey));
        if (_sourcesStamps.Count > _maxEntries)
        {
            Trim(_clock.GetUtcNow());
        }
    }

    /// <summary>Records <paramref name="version"/> as heard now; returns the newest version known for the patient.</summary>
    private long Remember(Guid patientId, long version)
    {
        var now = _clock.GetUtcNow();
        var known = _versions.AddOrUpdate(patientId, (version, now), (_, current) => version > current.Version ? (version, now) : current).Version;
        if (_versions.Count > _maxEntries)
        {
            Trim(now);
        }

        return known;
    }

    /// <summary>
    /// Forgets versions heard long enough ago that no read begun before them can still be storing a page (a forgotten
    /// patient's pages simply stop matching until read again). Under a flood of new patients faster than that, it forgets
    /// everything rather than grow.
    /// </summary>
    private void Trim(DateTimeOffset now)
    {
        if (!_trimming.TryEnter())
        {
            return;
        }

        try
        {
            foreach (var (patientId, heard) in _versions)
            {
                if (now - heard.HeardAt > VersionMemory)
                {
                    _versions.TryRemove(new KeyValuePair<Guid, (long, DateTimeOffset)>(patientId, heard));
                }
            }

            foreach (var (patientId, heard) in _sourcesStamps)
            {
                if (now - heard.HeardAt > VersionMemory)
                {
                    // A read that took this stamp and is still storing finds none (0) and keeps nothing; stamps never repeat.
                    _sourcesStamps.TryRemove(new KeyValuePair<Guid, (long, DateTimeOffset)>(patientId, heard));
                }
            }

            if (_versions.Count > 2 * _maxEntries || _sourcesStamps.Count > 2 * _maxEntries)
            {
                Forget();
            }
        }
        finally
        {
            _trimming.Exit();
        }
    }

    /// <summary>Forgets every version and page; reads already under way then keep nothing (<see cref="Generation"/>).</summary>
    private void Forget()
    {
        Interlocked.Increment(ref _generation);
        _versions.Clear();
        _sourcesStamps.Clear();
        _pages.Clear();
    }

    public void Dispose() => _pages.Dispose();

    private void OnRecordChanged(string payload)
    {
        if (payload == NotificationChannels.Everything)
        {
            Forget();
            return;
        }

        if (IsDeletedNotice(payload, out var deleted))
        {
            PatientDeleted(deleted);
            return;
        }

        if (payload.EndsWith(":" + SourcesMarker, StringComparison.Ordinal)
            && Guid.TryParse(payload.AsSpan(0, payload.Length - SourcesMarker.Length - 1), out var withSources))
        {
            SourcesChanged(withSources);
            return;
        }

        var parts = payload.Split(':');
        if (parts.Length == 2 && Guid.TryParse(parts[0], out var patientId) && long.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var version))
        {
            // Pages of older versions stop matching at once; the cache's size limit reclaims them.
            Remember(patientId, version);
        }
    }
}
