namespace Aggregator.Infrastructure.Sync;

/// <summary>
/// Rebuilds a patient's merged record after a sync stored new data. A run is marked succeeded only
/// after every rebuilder finished, so a client that sees <c>succeeded</c> reads the new record.
/// </summary>
public interface IRecordRebuilder
{
    Task RebuildAsync(Guid patientId, CancellationToken cancellationToken);
}
