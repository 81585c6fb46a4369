using System.Threading.Channels;
using Aggregator.Domain.Auditing;
using Aggregator.Infrastructure.Persistence;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Aggregator.Infrastructure.Auditing;

/// <summary><c>Audit:*</c>: how audit events are buffered and written.</summary>
public sealed class AuditOptions
{
    public const string Section = "Audit";

    /// <summary>Events held in memory at most; beyond it, those who record an event wait for room (nothing is dropped).</summary>
    public int BufferCapacity { get; set; } = 100_000;

    /// <summary>How long a request waits for room in a full buffer before its event is given up (and logged as lost).</summary>
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Events written per batch at most.</summary>
    public int BatchSize { get; set; } = 1_000;

    /// <summary>How long a batch may wait for more events before it is written.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// Who read or changed which patient's data, written off the request path: a request puts its event in an in-memory
/// channel (no database round trip) and this service writes them in batches. When the writer falls behind by a full
/// buffer, recording waits for room instead of dropping. A failed write is retried after the flush interval; stopping
/// writes what is left, so only a hard kill loses events (at most those of the last flush interval).
/// </summary>
public sealed partial class AuditTrail : BackgroundService
{
    private readonly Channel<AuditEvent> _events;
    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeProvider _clock;
    private readonly ILogger<AuditTrail> _logger;
    private readonly AuditOptions _options;
    private readonly List<AuditEvent> _unwritten = [];
    private readonly SemaphoreSlim _writing = new(1, 1);
    private long _waited;
    private long _lost;

    public AuditTrail(NpgsqlDataSource dataSource, TimeProvider clock, IOptions<AuditOptions> options, ILogger<AuditTrail> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _dataSource = dataSource;
        _clock = clock;
        _logger = logger;
        _options = options.Value;
        _events = Channel.CreateBounded<AuditEvent>(new BoundedChannelOptions(_options.BufferCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
    }

    /// <summary>
    /// Notes an event: at once while the buffer has room, else once the writer has made some, waiting at most
    /// <see cref="AuditOptions.MaxWait"/> (a database that stays away must not hold every request for ever); an event
    /// that could not wait longer is counted and logged as lost.
    /// </summary>
    public async ValueTask RecordAsync(AuditEvent auditEvent)
    {
        if (_events.Writer.TryWrite(auditEvent))
        {
            return;
        }

        Interlocked.Increment(ref _waited);
        using var patience = new CancellationTokenSource(_options.MaxWait, _clock);
        try
        {
            await _events.Writer.WriteAsync(auditEvent, patience.Token);
        }
        catch (OperationCanceledException)
        {
            Interlocked.Increment(ref _lost);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                // Wait for events unless a batch is still waiting to be written (a failed write is retried on its own).
                if (_unwritten.Count == 0 && !await _events.Reader.WaitToReadAsync(stoppingToken))
                {
                    break;
                }

                // Let a batch gather, then write what is there.
                await Task.Delay(_options.FlushInterval, _clock, stoppingToken);
                await FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what is left is written below.
        }

        await FlushAsync(CancellationToken.None);
    }

    /// <summary>Writes every event noted so far (in batches).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _writing.WaitAsync(cancellationToken);
        try
        {
            await FlushLockedAsync(cancellationToken);
        }
        finally
        {
            _writing.Release();
        }
    }

    public override void Dispose()
    {
        _writing.Dispose();
        base.Dispose();
    }

    private async Task FlushLockedAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _waited, 0) is > 0 and var waited)
        {
            LogWaited(_logger, waited, _options.BufferCapacity);
        }

        if (Interlocked.Exchange(ref _lost, 0) is > 0 and var lost)
        {
            LogLost(_logger, lost, _options.MaxWait);
        }

        while (true)
        {
            while (_unwritten.Count < _options.BatchSize && _events.Reader.TryRead(out var next))
            {
                _unwritten.Add(next);
            }

            if (_unwritten.Count == 0)
            {
                return;
            }

            try
            {
                await WriteAsync(_unwritten, cancellationToken);
                _unwritten.Clear();
            }
            catch (PostgresException ex) when (ex.SqlState.StartsWith("22", StringComparison.Ordinal) || ex.SqlState.StartsWith("23", StringComparison.Ordinal))
            {
                // Data the table refuses would be refused again: the batch is given up (and said so) rather than blocking every later event.
                LogBatchRefused(_logger, _unwritten.Count, ex.SqlState);
                _unwritten.Clear();
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                // Kept for the next flush; the events themselves are not logged (they name patients).
                LogWriteFailed(_logger, _unwritten.Count, ex is PostgresException postgres ? $"{ex.GetType().Name} {postgres.SqlState}" : ex.GetType().Name);
                return;
            }
        }
    }

    /// <summary>
    /// One INSERT per batch, its columns sent as arrays: auditing every read must cost the database little. (Not COPY:
    /// PostgreSQL refuses COPY FROM into a table under row-level security.)
    /// </summary>
    private async Task WriteAsync(List<AuditEvent> batch, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        // A batch holds many tenants' events: the writer acts for no tenant, and says so to row-level security.
        await TenantSession.ForSystemAsync(connection, cancellationToken);
        await using var insert = new NpgsqlCommand(
            """
            INSERT INTO audit_events (tenant_id, actor_type, actor_id, patient_id, action, occurred_at, request_id)
            SELECT * FROM unnest($1, $2, $3, $4, $5, $6, $7)
            """, connection);
        insert.Parameters.Add(new NpgsqlParameter { Value = batch.ConvertAll(e => e.TenantId).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
        insert.Parameters.Add(new NpgsqlParameter { Value = batch.ConvertAll(e => e.ActorType.ToString()).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Varchar });
        insert.Parameters.Add(new NpgsqlParameter { Value = batch.ConvertAll(e => e.ActorId).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Varchar });
        insert.Parameters.Add(new NpgsqlParameter { Value = batch.ConvertAll(e => e.PatientId).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
        insert.Parameters.Add(new NpgsqlParameter { Value = batch.ConvertAll(e => e.Action).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Varchar });
        insert.Parameters.Add(new NpgsqlParameter { Value = batch.ConvertAll(e => e.OccurredAt.ToUniversalTime()).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        insert.Parameters.Add(new NpgsqlParameter { Value = batch.ConvertAll(e => e.RequestId).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Varchar });
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The database refused a batch of {Count} audit events ({SqlState}); they are lost")]
    private static partial void LogBatchRefused(ILogger logger, int count, string sqlState);

    [LoggerMessage(Level = LogLevel.Error, Message = "The audit writer was behind for longer than {MaxWait}: {Lost} audit events were lost")]
    private static partial void LogLost(ILogger logger, long lost, TimeSpan maxWait);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Audit buffer full ({Capacity}): {Waited} requests waited for the audit writer")]
    private static partial void LogWaited(ILogger logger, long waited, int capacity);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not write {Count} audit events ({Error}); they are retried shortly")]
    private static partial void LogWriteFailed(ILogger logger, int count, string error);
}
