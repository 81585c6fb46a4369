using System.Diagnostics;
using Aggregator.IntegrationTests.Infrastructure;
using Aggregator.Sandbox.Tests.Hosting;

namespace Aggregator.IntegrationTests.Sync;

/// <summary>
/// What a provider can do to a worker: answer forever, answer slowly, or send us elsewhere. Each request has a byte cap
/// and a deadline, and no redirect is followed: the run ends promptly with the reason, and the next one works.
/// </summary>
public sealed class ProviderLimitsTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox, jobServer: true,
    settings: new Dictionary<string, string?>
    {
        ["Sync:MaxResponseBytes"] = "1048576",
        ["Sync:RequestTimeout"] = "00:00:03",
        ["Sync:MaxAttempts"] = "2",
        ["Sync:ManualCooldown"] = "00:00:00",
    })
{
    // The people whose twin at NextGen's R4 base (the same patient id) no other test injects faults for, revokes or
    // expires links of: 3 and 4 are SyncFaultTests', 7 CompanionAppTests', 8 ProviderShapesTests'; 0, 1, 5 and 6 are
    // synced at DSTU2 by other tests. This class's rows run one after another, so two of them can share a person.
    [Theory]
    [InlineData(2, "endless-body", "Sync:MaxResponseBytes")]
    [InlineData(9, "slow-body", "Sync:RequestTimeout")]
    [InlineData(2, "redirect", "HTTP 302")]
    public async Task A_provider_answer_that_never_ends_crawls_or_redirects_fails_with_its_reason_and_the_next_sync_works(int person, string fault, string reason)
    {
        var login = Sandbox.Generated("nextgen", "DSTU2", person);
        var (_, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-nextgen-dstu2", login, $"limits-{fault}");
        await Tenant.WaitForRunAsync(connectionId);
        // The next request (the patient, read first) misbehaves; a redirect would lead to the real answer if followed. Only
        // at DSTU2: the same person at NextGen's R4 base has the same patient id, and other tests sync them there at once.
        await Sandbox.Server.InjectFaultAsync(new FaultSpec("nextgen", fault) { PatientId = login.PatientId, Count = 1, FhirVersion = "DSTU2" });

        var clock = Stopwatch.StartNew();
        var run = await Tenant.SyncNowAsync(connectionId);
        clock.Stop();

        Assert.Equal("failed", run.GetProperty("status").GetString());
        Assert.Contains(reason, run.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"The run took {clock.Elapsed}.");
        Assert.Equal("succeeded", (await Tenant.SyncNowAsync(connectionId)).GetProperty("status").GetString());
    }
}
