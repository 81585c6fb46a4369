namespace Aggregator.Infrastructure.Persistence;

/// <summary>
/// A scope's database work, one caller at a time. A scope has one <see cref="AggregatorDbContext"/> (and a sync run one
/// session connection), and neither serves two commands at once; the parts of a scope that run concurrently (a sync's
/// searches, a token refresh one of them needs) take turns through this. A turn must not ask for another: a turn is
/// not re-entrant.
/// </summary>
public sealed class ScopeDatabaseTurns : IDisposable
{
    private readonly SemaphoreSlim _turn = new(1, 1);

    /// <summary>Waits for the scope's database; disposing the result gives it back.</summary>
    public async Task<Turn> TakeAsync(CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken);
        return new Turn(_turn);
    }

    public void Dispose() => _turn.Dispose();

    public readonly struct Turn(SemaphoreSlim turn) : IDisposable
    {
        public void Dispose() => turn?.Release();
    }
}
