using Aggregator.Infrastructure.Observability;
using Aggregator.Infrastructure.Persistence;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Aggregator.Infrastructure.Records;

/// <summary>
/// How many reads of the record's items one replica runs in the database at once (<c>Database:MaxConcurrentReads</c>,
/// default 16); the others wait for a slot, in the order they came. Under 64 clients each asking for a new filtered page,
/// letting every request into PostgreSQL at once made 64 backends share two cores, and the slowest answers took several
/// times the mean (p99 68 to 100 ms at 3,540 to 3,590 pages/s). With 16 at a time the database works through them in
/// turn: p99 30 to 32 ms at 3,980 to 4,160 pages/s (8 and 24 at a time did worse on both). A read that waits longer than
/// <c>Database:ReadQueueTimeout</c> (default 10 s) gives up with <see cref="DatabaseBusyException"/>, which the Api
/// answers 503 with Retry-After, instead of piling onto the database.
/// Cache hits never take a slot.
/// </summary>
public sealed class RecordReadSlots : IDisposable
{
    private readonly SemaphoreSlim _slots;
    private readonly TimeSpan _patience;
    private int _waiting;

    public RecordReadSlots(NpgsqlDataSource dataSource, IOptions<DatabaseOptions> options, AggregatorMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        DataSource = dataSource;
        var settings = options.Value;
        _slots = new SemaphoreSlim(settings.MaxConcurrentReads, settings.MaxConcurrentReads);
        _patience = settings.ReadQueueTimeout;
        Capacity = settings.MaxConcurrentReads;
        metrics.Meter.CreateObservableGauge("aggregator.record.reads.waiting", () => Volatile.Read(ref _waiting),
            description: "Reads of the record's items waiting for one of the replica's database slots (Database:MaxConcurrentReads).");
    }

    /// <summary>The database the slots are for (the replica's pool): a read opens its connection here once it has a slot.</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>How many reads may be in the database at once.</summary>
    public int Capacity { get; }

    /// <summary>How many slots are free right now.</summary>
    public int Free => _slots.CurrentCount;

    /// <summary>A slot, given back when disposed; <see cref="DatabaseBusyException"/> when none came free in time.</summary>
    public async ValueTask<Slot> EnterAsync(CancellationToken cancellationToken)
    {
        if (!_slots.Wait(0, CancellationToken.None))
        {
            Interlocked.Increment(ref _waiting);
            try
            {
                if (!await _slots.WaitAsync(_patience, cancellationToken))
                {
                    throw new DatabaseBusyException();
                }
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }

        return new Slot(_slots);
    }

    public void Dispose() => _slots.Dispose();

    /// <summary>One read's place in the database; disposing it lets the next waiting read in.</summary>
    public sealed class Slot(SemaphoreSlim slots) : IDisposable
    {
        private SemaphoreSlim? _slots = slots;

        public void Dispose() => Interlocked.Exchange(ref _slots, null)?.Release();
    }
}

/// <summary>Every database slot of this replica stayed taken for longer than a read may wait: try again shortly.</summary>
public sealed class DatabaseBusyException() : Exception("Every database slot for record reads stayed taken for longer than a read may wait.");
