using System.Transactions;

namespace Aggregator.Infrastructure.Jobs;

/// <summary>
/// One PostgreSQL transaction for our rows and the Hangfire jobs queued with them: the jobs exist exactly when
/// the rows do, whatever dies in between. EF Core and Hangfire both enlist in the ambient transaction, and since
/// Hangfire's connections come from our data source (<see cref="DataSourceConnectionFactory"/>) and each side
/// closes its connection after each command, Npgsql hands both the same physical connection: one local
/// transaction, no two-phase commit (PostgreSQL's <c>max_prepared_transactions</c> stays 0).
/// </summary>
/// <remarks>
/// Inside one, never hold an EF connection open (no <c>OpenConnection</c>, no explicit EF transaction) while
/// queuing a job: a second open connection would need a distributed transaction, which fails.
/// </remarks>
public static class JobTransaction
{
    public static TransactionScope Begin() => new(
        TransactionScopeOption.Required,
        new TransactionOptions { IsolationLevel = IsolationLevel.ReadCommitted, Timeout = TransactionManager.DefaultTimeout },
        TransactionScopeAsyncFlowOption.Enabled);
}
