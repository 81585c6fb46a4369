using System.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Aggregator.Infrastructure.Persistence;

/// <summary>
/// One snapshot of the database for a read made of several queries (a record's version and the pages it labels, the
/// items of an export and their Provenances): in PostgreSQL's repeatable read, every query sees what was committed
/// before the first, so a rebuild or a sync that commits meanwhile is wholly absent from the answer, never half in it.
/// The read writes nothing; disposing the transaction ends it.
/// </summary>
public static class ReadSnapshot
{
    public static Task<IDbContextTransaction> BeginAsync(AggregatorDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        return db.Database.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
    }
}
