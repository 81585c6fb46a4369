using Aggregator.Domain.Connections;
using Aggregator.Domain.Patients;
using Aggregator.Domain.Providers;
using Aggregator.Domain.Tenants;
using Aggregator.Infrastructure.Housekeeping;
using Aggregator.IntegrationTests.Infrastructure;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.IntegrationTests.Foundation;

public sealed class JobTests(PostgresServer server) : IAsyncLifetime
{
    private readonly TestDatabase _database = new(server);

    public ValueTask InitializeAsync() => _database.InitializeAsync();

    public ValueTask DisposeAsync() => _database.DisposeAsync();

    [Fact]
    public async Task A_job_enqueued_through_the_api_is_run_by_a_worker_host_on_the_same_database()
    {
        var ct = TestContext.Current.CancellationToken;
        var (expired, live) = await SeedAuthRequestsAsync(ct);
        await using var api = new ApiFactory(_database.ConnectionString);
        _ = api.Services; // start the Api host

        var jobId = api.Services.GetRequiredService<IBackgroundJobClient>()
            .Enqueue<ExpiredAuthRequestSweep>(job => job.RunAsync(CancellationToken.None));
        Assert.False(string.IsNullOrEmpty(jobId));

        await using var worker = new WorkerFactory(_database.ConnectionString);
        _ = worker.Services; // start the Worker host and its Hangfire server
        var state = await WaitForJobStateAsync(api.Services.GetRequiredService<JobStorage>(), jobId, TimeSpan.FromSeconds(60));

        Assert.Equal("Succeeded", state);
        await using var db = _database.CreateContext();
        var left = await db.AuthRequests.Select(a => a.Id).ToListAsync(ct);
        Assert.DoesNotContain(expired, left);
        Assert.Contains(live, left);
    }

    private static async Task<string?> WaitForJobStateAsync(JobStorage storage, string jobId, TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        string? state = null;
        while (!timeout.IsCancellationRequested)
        {
            using (var connection = storage.GetConnection())
            {
                state = connection.GetStateData(jobId)?.Name;
            }

            if (state is "Succeeded" or "Failed")
            {
                return state;
            }

            await Task.Delay(250, CancellationToken.None);
        }

        return state;
    }

    private async Task<(Guid Expired, Guid Live)> SeedAuthRequestsAsync(CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        var tenant = new Tenant { Id = Guid.NewGuid(), Name = "Coral Health", CreatedAt = now };
        var patient = new Patient { Id = Guid.NewGuid(), TenantId = tenant.Id, ExternalId = "p-1", CreatedAt = now };
        var provider = new Provider
        {
            Id = Guid.NewGuid(), Slug = "example-r4", Name = "Example", Brand = "Example", FhirBaseUrl = "https://ehr.example/fhir/r4/",
            Origin = "test", CreatedAt = now, UpdatedAt = now,
        };
        var connection = new Connection { Id = Guid.NewGuid(), TenantId = tenant.Id, PatientId = patient.Id, ProviderId = provider.Id, CreatedAt = now, UpdatedAt = now };
        AuthRequest Attempt(DateTimeOffset expiresAt) => new()
        {
            Id = Guid.NewGuid(), TenantId = tenant.Id, ConnectionId = connection.Id, StateHash = Guid.NewGuid().ToByteArray(),
            PkceVerifierProtected = "protected", ReturnUrl = "https://app.example/done", RedirectUri = "https://agg.example/v1/oauth/callback",
            Issuer = "https://ehr.example", CreatedAt = expiresAt.AddMinutes(-10), ExpiresAt = expiresAt,
        };
        var expired = Attempt(now.AddHours(-3));
        var live = Attempt(now.AddMinutes(10));

        await using var db = _database.CreateContext();
        db.AddRange(tenant, patient, provider, connection, expired, live);
        await db.SaveChangesAsync(ct);
        return (expired.Id, live.Id);
    }
}
