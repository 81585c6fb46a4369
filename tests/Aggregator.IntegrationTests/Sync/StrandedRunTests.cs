using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aggregator.Domain.Connections;
using Aggregator.Domain.Patients;
using Aggregator.Domain.Sync;
using Aggregator.Infrastructure.Sync;
using Aggregator.IntegrationTests.Infrastructure;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Aggregator.IntegrationTests.Sync;

/// <summary>
/// Nothing is stranded: a process that stops between recording sync runs and queuing their jobs leaves neither, and
/// an unfinished run that no job will run any more (its job deleted, or none on record from an older version) gets a new
/// one. The stop is a job client that fails part-way through, as a process dying there would.
/// </summary>
public sealed class StrandedRunTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox,
    configureServices: services => JobClientFault.Install(services),
    settings: new Dictionary<string, string?> { ["Sync:StrandedAfter"] = "00:00:00" })
{
    [Fact]
    public async Task A_dispatcher_stopped_while_queuing_jobs_leaves_no_run_without_a_job_and_its_connections_due_for_the_next_pass()
    {
        var due = await SeedConnectionsAsync(5);
        var dueBefore = await NextSyncTimesAsync(due);
        var jobsBefore = SyncJobsWaiting();

        using (JobClientFault.FailAfter(2))
        {
            await Assert.ThrowsAsync<InvalidOperationException>(DispatchAsync);
        }

        Assert.Empty(await RunsAsync(due));
        Assert.Equal(jobsBefore, SyncJobsWaiting());
        Assert.Equal(dueBefore, await NextSyncTimesAsync(due));

        Assert.Equal(5, await DispatchAsync());
        var runs = await RunsAsync(due);
        Assert.Equal(due.Order(), runs.Select(r => r.ConnectionId).Order());
        Assert.All(runs, run => Assert.Equal(("Enqueued", run.Id), JobOf(run)));
    }

    [Fact]
    public async Task A_manual_sync_whose_job_could_not_be_queued_leaves_no_run_and_the_next_request_starts_a_sync()
    {
        var connectionId = (await SeedConnectionsAsync(1, due: false)).Single();

        HttpResponseMessage failed;
        using (JobClientFault.FailAfter(0))
        {
            failed = await Tenant.PostAsync(new Uri($"/v1/connections/{connectionId}/sync", UriKind.Relative), null, TestContext.Current.CancellationToken);
        }

        var next = await Tenant.PostAsync(new Uri($"/v1/connections/{connectionId}/sync", UriKind.Relative), null, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, next.StatusCode);
        var answer = await next.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.True(answer.GetProperty("started").GetBoolean());
        var run = Assert.Single(await RunsAsync([connectionId]));
        Assert.Equal(answer.GetProperty("syncRunId").GetGuid(), run.Id);
        Assert.Equal(("Enqueued", run.Id), JobOf(run));
    }

    [Fact]
    public async Task The_sweep_queues_again_only_the_runs_no_job_will_run_and_leaves_those_whose_job_waits()
    {
        var connections = await SeedConnectionsAsync(4, due: false);
        var waiting = await EnqueueAsync(connections[0]);
        var deleted = await EnqueueAsync(connections[1]);
        Assert.True(Api.Services.GetRequiredService<IBackgroundJobClient>().Delete(deleted.JobId!));
        // Left by a version that committed runs before queuing their jobs: no job on record.
        var legacyQueued = await InsertRunAsync(connections[2], SyncRunStatus.Queued);
        // Running with no job on record: its job may well be running it, so it is not touched.
        var legacyRunning = await InsertRunAsync(connections[3], SyncRunStatus.Running);

        var requeued = await SweepAsync();
        var again = await SweepAsync();

        Assert.Equal(2, requeued);
        Assert.Equal(0, again);
        await using var db = Database.CreateContext();
        var runs = await db.SyncRuns.ToDictionaryAsync(r => r.Id, TestContext.Current.CancellationToken);
        Assert.Equal(waiting.JobId, runs[waiting.Id].JobId);
        Assert.NotEqual(deleted.JobId, runs[deleted.Id].JobId);
        Assert.Equal(("Enqueued", deleted.Id), JobOf(runs[deleted.Id]));
        Assert.Equal(("Enqueued", legacyQueued), JobOf(runs[legacyQueued]));
        Assert.Null(runs[legacyRunning].JobId);
    }

    [Fact]
    public async Task A_run_whose_job_was_deleted_answers_manual_syncs_until_the_sweep_queues_it_again_and_a_worker_finishes_it()
    {
        var login = Sandbox.Generated("nextgen", "R4", 1);
        var (_, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-nextgen-r4", login);
        var initial = Assert.Single(await RunsAsync([connectionId]));
        Assert.True(Api.Services.GetRequiredService<IBackgroundJobClient>().Delete(initial.JobId!));
        var answeredBefore = await RequestSyncAsync(connectionId);

        Assert.Equal(1, await SweepAsync());
        await using var worker = new WorkerFactory(Database.ConnectionString);
        _ = worker.Services;
        var finished = await Tenant.WaitForRunAsync(connectionId, initial.Id);
        var answeredAfter = await RequestSyncAsync(connectionId);

        Assert.Equal((initial.Id, false), answeredBefore);
        Assert.Equal("succeeded", finished.GetProperty("status").GetString());
        Assert.NotEqual(initial.Id, answeredAfter.RunId);
        Assert.True(answeredAfter.Started);
    }

    [Fact]
    public async Task A_run_whose_job_finds_its_connection_busy_has_the_retry_as_its_job_and_is_not_swept()
    {
        var connectionId = (await SeedConnectionsAsync(1, due: false)).Single();
        var run = await EnqueueAsync(connectionId);
        await using var other = new NpgsqlConnection(Database.ConnectionString);
        await other.OpenAsync(TestContext.Current.CancellationToken);
        Assert.True(await SyncLocks.TryLockConnectionAsync(other, connectionId, TestContext.Current.CancellationToken));

        await using (var scope = Api.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<SyncConnectionJob>().RunAsync(run.Id, TestContext.Current.CancellationToken);
        }

        // Hangfire now marks the first job succeeded: the run is left to its retry.
        Assert.True(Api.Services.GetRequiredService<IBackgroundJobClient>().ChangeState(run.JobId!, new SucceededState(null, 0, 0), EnqueuedState.StateName));

        var swept = await SweepAsync();

        await using var db = Database.CreateContext();
        var after = await db.SyncRuns.SingleAsync(r => r.Id == run.Id, TestContext.Current.CancellationToken);
        Assert.Equal(SyncRunStatus.Queued, after.Status);
        Assert.NotEqual(run.JobId, after.JobId);
        Assert.Equal(("Scheduled", run.Id), JobOf(after));
        Assert.Equal(0, swept);
    }

    [Fact]
    public async Task After_a_dispatch_no_pooled_connection_keeps_the_dispatchers_all_tenants_session()
    {
        await SeedConnectionsAsync(3);
        Assert.Equal(3, await DispatchAsync());

        // Every idle connection of the Api's pool at once: the dispatch's own among them.
        var dataSource = Api.Services.GetRequiredService<NpgsqlDataSource>();
        var sessions = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < 20; i++)
            {
                sessions.Add(await dataSource.OpenConnectionAsync(TestContext.Current.CancellationToken));
            }

            foreach (var session in sessions)
            {
                await using var command = new NpgsqlCommand("SELECT coalesce(current_setting('app.all_tenants', true), '')", session);
                Assert.Equal("", await command.ExecuteScalarAsync(TestContext.Current.CancellationToken));
            }
        }
        finally
        {
            foreach (var session in sessions)
            {
                await session.DisposeAsync();
            }
        }
    }

    private async Task<int> DispatchAsync()
    {
        await using var scope = Api.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<SyncDispatcher>().DispatchAsync(TestContext.Current.CancellationToken);
    }

    private async Task<int> SweepAsync()
    {
        await using var scope = Api.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<StrandedRunSweep>().RunAsync(TestContext.Current.CancellationToken);
    }

    private async Task<SyncRun> EnqueueAsync(Guid connectionId)
    {
        await using (var scope = Api.Services.CreateAsyncScope())
        {
            scope.ServiceProvider.GetRequiredService<Aggregator.Infrastructure.Tenants.CurrentTenant>().Set(TenantId);
            await scope.ServiceProvider.GetRequiredService<SyncScheduler>().EnqueueAsync(connectionId, SyncTrigger.Manual, TestContext.Current.CancellationToken);
        }

        return Assert.Single(await RunsAsync([connectionId]));
    }

    private async Task<(Guid RunId, bool Started)> RequestSyncAsync(Guid connectionId)
    {
        var response = await Tenant.PostAsync(new Uri($"/v1/connections/{connectionId}/sync", UriKind.Relative), null, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        return (body.GetProperty("syncRunId").GetGuid(), body.GetProperty("started").GetBoolean());
    }

    /// <summary>A run as an older version left it: queued an hour ago, no job on record.</summary>
    private async Task<Guid> InsertRunAsync(Guid connectionId, SyncRunStatus status)
    {
        var run = new SyncRun
        {
            Id = Guid.CreateVersion7(), TenantId = TenantId, ConnectionId = connectionId, Status = status, Trigger = SyncTrigger.Scheduled,
            QueuedAt = DateTimeOffset.UtcNow.AddHours(-1), StartedAt = status == SyncRunStatus.Running ? DateTimeOffset.UtcNow.AddHours(-1) : null,
        };
        await using var db = Database.CreateContext();
        db.SyncRuns.Add(run);
        await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        return run.Id;
    }

    private async Task<List<SyncRun>> RunsAsync(IReadOnlyCollection<Guid> connections)
    {
        await using var db = Database.CreateContext();
        return await db.SyncRuns.Where(r => connections.Contains(r.ConnectionId)).ToListAsync(TestContext.Current.CancellationToken);
    }

    private async Task<List<DateTimeOffset?>> NextSyncTimesAsync(IReadOnlyCollection<Guid> connections)
    {
        await using var db = Database.CreateContext();
        return await db.Connections.Where(c => connections.Contains(c.Id)).OrderBy(c => c.Id).Select(c => c.NextSyncAt).ToListAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>The state of the run's job in Hangfire's storage, and the run it was queued for.</summary>
    private (string? State, Guid RunId) JobOf(SyncRun run)
    {
        Assert.NotNull(run.JobId);
        using var connection = Api.Services.GetRequiredService<JobStorage>().GetConnection();
        var job = connection.GetJobData(run.JobId);
        Assert.NotNull(job);
        Assert.Equal(nameof(SyncConnectionJob.RunAsync), job.Job.Method.Name);
        return (job.State, (Guid)job.Job.Args[0]);
    }

    private long SyncJobsWaiting() =>
        Api.Services.GetRequiredService<JobStorage>().GetMonitoringApi().EnqueuedCount(Aggregator.Infrastructure.Jobs.JobQueues.Sync);

    /// <summary>Active connections of the test's tenant straight in the database (nothing here runs their jobs).</summary>
    private async Task<List<Guid>> SeedConnectionsAsync(int count, bool due = true)
    {
        var now = DateTimeOffset.UtcNow;
        await using var db = Database.CreateContext();
        var provider = await db.Providers.FirstAsync(p => p.Slug == "sandbox-epic-r4", TestContext.Current.CancellationToken);
        var ids = new List<Guid>();
        for (var i = 0; i < count; i++)
        {
            var patient = new Patient { Id = Guid.NewGuid(), TenantId = TenantId, ExternalId = $"stranded-{Guid.NewGuid():N}", CreatedAt = now };
            var connection = new Connection
            {
                Id = Guid.NewGuid(), TenantId = TenantId, PatientId = patient.Id, ProviderId = provider.Id, Status = ConnectionStatus.Active,
                ProviderPatientId = "p" + i, ConfirmedAt = now, NextSyncAt = due ? now.AddMinutes(-5 - i) : now.AddHours(1), CreatedAt = now, UpdatedAt = now,
            };
            db.AddRange(patient, connection);
            ids.Add(connection.Id);
        }

        await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        return ids;
    }

    /// <summary>
    /// Fault injection, not a stand-in: the Api's real job client, which throws once it has queued a given number of
    /// jobs, as a process stopping there would (one class's tests run one at a time, so one switch serves them).
    /// </summary>
    private sealed class JobClientFault(IBackgroundJobClient inner) : IBackgroundJobClient
    {
        private static int? _allowed;

        public static void Install(IServiceCollection services)
        {
            var original = services.Last(d => d.ServiceType == typeof(IBackgroundJobClient));
            services.AddSingleton<IBackgroundJobClient>(provider => new JobClientFault(
                (IBackgroundJobClient)(original.ImplementationInstance
                    ?? original.ImplementationFactory?.Invoke(provider)
                    ?? ActivatorUtilities.CreateInstance(provider, original.ImplementationType!))));
        }

        /// <summary>From now until disposed, the job client queues <paramref name="jobs"/> more jobs, then throws.</summary>
        public static IDisposable FailAfter(int jobs)
        {
            _allowed = jobs;
            return new Reset();
        }

        public string Create(Job job, IState state)
        {
            if (_allowed is { } allowed)
            {
                if (allowed == 0)
                {
                    throw new InvalidOperationException("Injected: the process stopped while queuing jobs.");
                }

                _allowed = allowed - 1;
            }

            return inner.Create(job, state);
        }

        public bool ChangeState(string jobId, IState state, string expectedState) => inner.ChangeState(jobId, state, expectedState);

        private sealed class Reset : IDisposable
        {
            public void Dispose() => _allowed = null;
        }
    }
}
