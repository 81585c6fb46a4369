using Aggregator.Infrastructure.Notifications;
using Aggregator.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.IntegrationTests.Records;

/// <summary>Hot record pages come from memory until the patient's record version moves (announced by NOTIFY).</summary>
public sealed class RecordCacheTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox, jobServer: true)
{
    [Fact]
    public async Task A_page_is_served_from_memory_until_a_new_record_version_is_announced()
    {
        var (patientId, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-nextgen-r4", Sandbox.Login("nextgen", "R4", 6), "cached-patient");
        await Tenant.WaitForRunAsync(connectionId);
        var path = $"/v1/patients/{patientId}/record/conditions?limit=5";
        var first = await Tenant.GetStringAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);

        // The stored items change behind the cache's back, without a new version: the cached page still answers.
        long version;
        await using (var db = Database.CreateContext())
        {
            await db.RecordItems.Where(i => i.PatientId == patientId && i.Category == "conditions")
                .ExecuteUpdateAsync(set => set.SetProperty(i => i.Compact, i => i.Compact.Replace("\"display\":", "\"display\":\"edited\",\"was\":")), TestContext.Current.CancellationToken);
            version = await db.Patients.Where(p => p.Id == patientId).Select(p => p.RecordVersion).SingleAsync(TestContext.Current.CancellationToken) + 1;
            await db.Patients.Where(p => p.Id == patientId).ExecuteUpdateAsync(set => set.SetProperty(p => p.RecordVersion, version), TestContext.Current.CancellationToken);
        }

        var cached = await Tenant.GetStringAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);
        await Api.Services.GetRequiredService<DatabaseNotifications>().PublishAsync(NotificationChannels.RecordChanged, $"{patientId}:{version}", TestContext.Current.CancellationToken);
        var fresh = await WaitForChangeAsync(path, first);

        Assert.Equal(first, cached);
        Assert.Contains("\"display\":\"edited\"", fresh, StringComparison.Ordinal);
    }

    private async Task<string> WaitForChangeAsync(string path, string before)
    {
        for (var i = 0; i < 100; i++)
        {
            var now = await Tenant.GetStringAsync(new Uri(path, UriKind.Relative));
            if (now != before)
            {
                return now;
            }

            await Task.Delay(50);
        }

        return before;
    }
}
