namespace Aggregator.Infrastructure.Sync;

public sealed class SyncOptions
{
    public const string Section = "Sync";

    /// <summary>The most one provider answer may hold; a longer one fails its page (or resource) with a reason.</summary>
    public long MaxResponseBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>How long one provider request may take, its whole body included; a slower one fails its page with a reason.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How many times one request is tried when the server answers 429 or 5xx.</summary>
    public int MaxAttempts { get; set; } = 6;

    /// <summary>The longest wait a Retry-After may impose; longer ones are cut to this.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Backoff before the first retry when the server gives no Retry-After (doubles each time).</summary>
    public TimeSpan FirstBackoff { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Syncs of one provider that may run at once across every Worker.</summary>
    public int MaxConcurrentPerProvider { get; set; } = 4;

    /// <summary>
    /// Requests one sync run may have in flight at one provider: the plan's searches of different types run at once, up to
    /// this many (1: one after another). A provider's answers take it tens to hundreds of milliseconds each; a sync that
    /// waited for them one by one spent most of its time waiting.
    /// </summary>
    public int MaxRequestsPerConnection { get; set; } = 4;

    /// <summary>A full sync (which finds deletions) at least this often; runs in between are incremental.</summary>
    public TimeSpan FullSyncEvery { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Subtracted from the provider's clock of the last success, for <c>_lastUpdated=ge</c>.</summary>
    public TimeSpan IncrementalMargin { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A manual sync request within this time after a run answers with that run.</summary>
    public TimeSpan ManualCooldown { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>When set, no search asks for more than this many resources a page, whatever its plan says (for slow providers).</summary>
    public int? MaxPageSize { get; set; }

    /// <summary>Safety cap on pages followed in one search.</summary>
    public int MaxPagesPerSearch { get; set; } = 2000;

    /// <summary>Cap on referenced resources (Practitioner, Organization, Location, Medication) read one by one in a run.</summary>
    public int MaxReferencedReads { get; set; } = 500;

    /// <summary>Documents larger than this are not fetched (their metadata still is).</summary>
    public long MaxDocumentBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>How often a running sync records its per-type counts and tells the patient's event stream (and after each type that fetched something).</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Connections the dispatcher claims per pass.</summary>
    public int DispatchBatchSize { get; set; } = 100;

    /// <summary>An unfinished run this old whose job is gone or finished (or that has none on record) gets a new job.</summary>
    public TimeSpan StrandedAfter { get; set; } = TimeSpan.FromMinutes(15);
}
