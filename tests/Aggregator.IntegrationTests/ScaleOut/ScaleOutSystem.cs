using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Aggregator.Domain.Sync;
using Aggregator.Infrastructure.Sync;
using Aggregator.IntegrationTests.Infrastructure;
using Aggregator.Sandbox.Tests.Hosting;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Aggregator.IntegrationTests.ScaleOut;

/// <summary>One SyncConnectionJob state as Hangfire recorded it: which run, which state, and on which server.</summary>
public sealed record SyncJobState(long JobId, Guid RunId, string State, string? ServerId);

/// <summary>
/// Aggregator scaled out as an operator runs it: Api and Worker processes (real ones, from the test's output folder) on
/// one test database, and a sandbox of the test's own with generated people only, so that the faults injected here
/// reach no other test. Both Apis sit behind one public address, as behind a load balancer: a provider's redirect made
/// for one may reach the other. A tenant "Coral Health" is created with the operator command.
/// </summary>
public sealed partial class ScaleOutSystem : IAsyncDisposable
{
    /// <summary>The address both Apis hand out (the test's browser delivers each callback to whichever Api it picks).</summary>
    public const string PublicBaseUrl = "http://127.0.0.1:5999";

    /// <summary>Short, so that a killed Worker's job is fetched again within seconds.</summary>
    public static readonly TimeSpan InvisibilityTimeout = TimeSpan.FromSeconds(20);

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private readonly Dictionary<string, Guid> _providers = new(StringComparer.Ordinal);
    private readonly List<HttpClient> _clients = [];
    private PostgreSqlStorage? _jobs;
    private IReadOnlyDictionary<string, string?> _settings = new Dictionary<string, string?>();

    private ScaleOutSystem(TestDatabase database, SandboxServer sandbox)
    {
        Database = database;
        Sandbox = sandbox;
    }

    public TestDatabase Database { get; }

    public SandboxServer Sandbox { get; }

    /// <summary>Every generated person's login, at each persona and version that serves them.</summary>
    public IReadOnlyList<SandboxLogin> Logins { get; private set; } = [];

    public List<HostProcess> Apis { get; } = [];

    public List<HostProcess> Workers { get; } = [];

    public Guid TenantId { get; private set; }

    /// <summary>The tenant's API key, as the operator command printed it.</summary>
    public string TenantKey { get; private set; } = "";

    /// <summary>Hangfire's storage on the test database, as a client (no server runs here).</summary>
    public JobStorage Jobs => _jobs ??= CreateJobStorage(Database.ConnectionString);

    /// <summary>
    /// Starts the sandbox with <paramref name="people"/> generated people, clones a database, creates the tenant, then
    /// the Apis and Workers; returns once every Api is ready and every Worker's Hangfire server is registered.
    /// </summary>
    public static async Task<ScaleOutSystem> StartAsync(
        PostgresServer server, int apis, int workers, int people, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var database = new TestDatabase(server);
        await database.InitializeAsync();
        var sandbox = await SandboxServer.StartAsync(new Dictionary<string, string?>
        {
            ["Sandbox:TestApi"] = "true",
            ["Sandbox:Generator:People"] = people.ToString(CultureInfo.InvariantCulture),
        });
        var system = new ScaleOutSystem(database, sandbox) { _settings = settings ?? new Dictionary<string, string?>() };
        try
        {
            await system.StartAsync(apis, workers);
        }
        catch
        {
            await system.DisposeAsync();
            throw;
        }

        return system;
    }

    private async Task StartAsync(int apis, int workers)
    {
        using (var client = Sandbox.CreateClient())
        {
            Logins = (await client.GetFromJsonAsync<List<SandboxLogin>>(new Uri("_test/patients", UriKind.Relative), Web, TestContext.Current.CancellationToken))!
                .Where(l => l.Source == "generated").OrderBy(l => l.PersonId, StringComparer.Ordinal).ThenBy(l => l.Persona, StringComparer.Ordinal)
                .ThenBy(l => l.FhirVersion, StringComparer.Ordinal).ToList();
        }

        var (code, stdout, stderr) = await OperatorCli.RunAsync(Database.ConnectionString, "tenants", "create", "Coral Health", "--return-url", ConnectedPatients.ReturnUrl);
        Assert.True(code == 0, stderr);
        TenantId = Guid.Parse(TenantLine().Match(stdout).Groups[1].Value, CultureInfo.InvariantCulture);
        TenantKey = OperatorCli.LastLine(stdout);

        // The first Api alone: it puts the sandbox's personas in the directory, which two at once would race to do.
        Apis.Add(HostProcess.Start("Aggregator.Api.dll", ApiEnvironment()));
        Assert.True(await Apis[0].ReadyAsync(TimeSpan.FromSeconds(120)), string.Join('\n', Apis[0].Output));
        for (var i = 1; i < apis; i++)
        {
            Apis.Add(HostProcess.Start("Aggregator.Api.dll", ApiEnvironment()));
        }

        for (var i = 0; i < workers; i++)
        {
            Workers.Add(HostProcess.Start("Aggregator.Worker.dll", WorkerEnvironment()));
        }

        foreach (var host in Apis.Concat(Workers))
        {
            Assert.True(await host.ReadyAsync(TimeSpan.FromSeconds(120)), string.Join('\n', host.Output));
        }

        await WaitUntilAsync(async () =>
        {
            var servers = await ServerIdsAsync();
            return Workers.All(w => servers.Any(s => RunsIn(s, w)));
        }, "Every Worker's Hangfire server registers itself");
    }

    /// <summary>A client of Api <paramref name="api"/> that calls with <paramref name="credential"/> (the tenant's key by default).</summary>
    public HttpClient Client(int api, string? credential = null)
    {
        var client = new HttpClient { BaseAddress = Apis[api].Url, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credential ?? TenantKey);
        _clients.Add(client);
        return client;
    }

    /// <summary>
    /// Registers a patient and connects it at the login's provider through the sandbox's real login and consent pages: the
    /// connect flow starts at Api <paramref name="startVia"/> and the browser brings the provider's redirect to Api
    /// <paramref name="callbackVia"/>, whose tenant backend confirms it.
    /// </summary>
    public async Task<(Guid PatientId, Guid ConnectionId)> ConnectAsync(string externalId, SandboxLogin login, int startVia, int callbackVia)
    {
        ArgumentNullException.ThrowIfNull(login);
        var start = Client(startVia);
        var patientId = (await start.PutPatientAsync(externalId)).GetProperty("id").GetGuid();
        var provider = await ProviderAsync(start, $"sandbox-{login.Persona}-{login.FhirVersion.ToLowerInvariant()}");
        var response = await start.PostAsJsonAsync(new Uri($"/v1/patients/{patientId}/connections", UriKind.Relative), new { providerId = provider, returnUrl = ConnectedPatients.ReturnUrl });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        using var browserClient = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = Apis[callbackVia].Url };
        var landing = await new PatientBrowser(Sandbox, browserClient).ConnectAsync(new Uri(body.GetProperty("authorizeUrl").GetString()!), login);
        Assert.Equal("connected", QueryHelpers.ParseQuery(landing.Query)["status"].ToString());
        var connectionId = body.GetProperty("connectionId").GetGuid();
        await Client(callbackVia).ConfirmAsync(connectionId, landing);
        return (patientId, connectionId);
    }

    /// <summary>Waits until each connection has at least <paramref name="runs"/> runs and none is queued or running; returns them all.</summary>
    public async Task<List<SyncRun>> WaitForRunsAsync(IReadOnlyCollection<Guid> connectionIds, int runs, TimeSpan? limit = null)
    {
        List<SyncRun> all = [];
        await WaitUntilAsync(async () =>
        {
            all = await RunsAsync(connectionIds);
            var counts = all.GroupBy(r => r.ConnectionId).ToDictionary(g => g.Key, g => g.Count());
            return connectionIds.All(c => counts.GetValueOrDefault(c) >= runs)
                && all.All(r => r.Status is SyncRunStatus.Succeeded or SyncRunStatus.Partial or SyncRunStatus.Failed);
        }, $"Every connection has {runs} finished sync run(s)", limit ?? TimeSpan.FromMinutes(4));
        return all;
    }

    public async Task<List<SyncRun>> RunsAsync(IReadOnlyCollection<Guid> connectionIds)
    {
        await using var db = Database.CreateContext();
        return await db.SyncRuns.AsNoTracking().Where(r => connectionIds.Contains(r.ConnectionId)).OrderBy(r => r.QueuedAt).ToListAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Makes the connections due now, as their tenant's interval would.</summary>
    public async Task MakeDueAsync(IReadOnlyCollection<Guid> connectionIds)
    {
        await using var db = Database.CreateContext();
        var past = DateTimeOffset.UtcNow.AddMinutes(-1);
        await db.Connections.Where(c => connectionIds.Contains(c.Id))
            .ExecuteUpdateAsync(set => set.SetProperty(c => c.NextSyncAt, past), TestContext.Current.CancellationToken);
    }

    /// <summary>Runs the dispatcher's recurring job now (instead of at the next minute) and returns the job's id.</summary>
    public string TriggerDispatch() => new RecurringJobManager(Jobs).TriggerJob(SyncDispatcher.RecurringJobId);

    /// <summary>Waits until a Hangfire job has succeeded (and fails the test if it failed).</summary>
    public async Task WaitForJobAsync(string jobId)
    {
        string? state = null;
        await WaitUntilAsync(() =>
        {
            using var connection = Jobs.GetConnection();
            state = connection.GetStateData(jobId)?.Name;
            return Task.FromResult(state is "Succeeded" or "Failed");
        }, $"Job {jobId} finishes");
        Assert.Equal("Succeeded", state);
    }

    /// <summary>Every state of every sync job, oldest first.</summary>
    public async Task<List<SyncJobState>> SyncJobStatesAsync()
    {
        await using var connection = new NpgsqlConnection(Database.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(
            """
            SELECT j.id, j.arguments::text, s.name, s.data::text
            FROM hangfire.job j JOIN hangfire.state s ON s.jobid = j.id
            WHERE j.invocationdata::text LIKE '%SyncConnectionJob%'
            ORDER BY s.id
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        var states = new List<SyncJobState>();
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            var runId = Guid.Parse(GuidPattern().Match(reader.GetString(1)).Value, CultureInfo.InvariantCulture);
            string? serverId = null;
            if (!reader.IsDBNull(3) && JsonDocument.Parse(reader.GetString(3)).RootElement is { ValueKind: JsonValueKind.Object } data
                && data.TryGetProperty("ServerId", out var server))
            {
                serverId = server.GetString();
            }

            states.Add(new SyncJobState(reader.GetInt64(0), runId, reader.GetString(2), serverId));
        }

        return states;
    }

    /// <summary>
    /// Every state of every sync job, once each job has ended (a run is recorded finished before its job is: the job
    /// succeeds after the sync returns).
    /// </summary>
    public async Task<List<SyncJobState>> SyncJobsFinishedAsync()
    {
        List<SyncJobState> states = [];
        await WaitUntilAsync(async () =>
        {
            states = await SyncJobStatesAsync();
            return states.GroupBy(s => s.JobId).All(job => job.Last().State is "Succeeded" or "Failed" or "Deleted");
        }, "Every sync job has ended");
        return states;
    }

    /// <summary>Whether a Hangfire server id is that of <paramref name="worker"/>'s process (its name carries the process id).</summary>
    public static bool RunsIn(string serverId, HostProcess worker) =>
        serverId?.Contains(string.Create(CultureInfo.InvariantCulture, $":{worker?.Id}:"), StringComparison.Ordinal) ?? false;

    /// <summary>A connection's stored source resources (not deleted) as <c>Type/id</c>, sorted.</summary>
    public async Task<List<string>> StoredAsync(Guid connectionId)
    {
        await using var db = Database.CreateContext();
        var keys = await db.SourceResources.Where(r => r.ConnectionId == connectionId && r.DeletedAt == null)
            .Select(r => r.ResourceType + "/" + r.ResourceId).ToListAsync(TestContext.Current.CancellationToken);
        return [.. keys.Order(StringComparer.Ordinal)];
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? limit = null)
    {
        var deadline = DateTimeOffset.UtcNow + (limit ?? TimeSpan.FromMinutes(2));
        while (!await condition())
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"Not in time: {what}.");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        foreach (var host in Apis.Concat(Workers))
        {
            await host.DisposeAsync();
        }

        await Sandbox.DisposeAsync();
        await Database.DisposeAsync();
    }

    private async Task<Guid> ProviderAsync(HttpClient tenant, string slug)
    {
        if (!_providers.TryGetValue(slug, out var id))
        {
            id = _providers[slug] = (await tenant.GetJsonAsync("/v1/providers?q=" + slug)).GetProperty("items").EnumerateArray()
                .Single(p => p.GetProperty("slug").GetString() == slug).GetProperty("id").GetGuid();
        }

        return id;
    }

    private async Task<List<string>> ServerIdsAsync()
    {
        await using var connection = new NpgsqlConnection(Database.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand("SELECT id FROM hangfire.server", connection);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        var ids = new List<string>();
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    private static PostgreSqlStorage CreateJobStorage(string connectionString)
    {
        var options = new PostgreSqlStorageOptions { SchemaName = "hangfire", PrepareSchemaIfNecessary = false };
        return new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, options), options);
    }

    /// <summary>What every host is given: the database (as the services' ordinary role), quiet logs, quick job polling.</summary>
    /// <summary>What every process gets, then the test's own settings (environment form) over it.</summary>
    private Dictionary<string, string?> CommonEnvironment()
    {
        var environment = new Dictionary<string, string?>
        {
            ["ConnectionStrings__Aggregator"] = PostgresServer.AsApp(Database.ConnectionString),
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Serilog__MinimumLevel__Default"] = Environment.GetEnvironmentVariable("TEST_LOG_LEVEL") ?? "Warning",
            ["Worker__InProcess"] = "false",
            ["Worker__PollInterval"] = "00:00:00.500",
            ["Worker__InvisibilityTimeout"] = InvisibilityTimeout.ToString("c", CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in _settings)
        {
            environment[key] = value;
        }

        return environment;
    }

    private Dictionary<string, string?> ApiEnvironment() => new(CommonEnvironment())
    {
        // The project folder, as WebApplicationFactory gives the hosts in-process: the test's output folder holds only
        // one host's appsettings.json, and the Api's names the sandbox's personas.
        ["ASPNETCORE_CONTENTROOT"] = Path.Combine(RepositoryPaths.Root, "src", "Api"),
        ["ConnectionStrings__AggregatorOwner"] = Database.ConnectionString,
        ["Sandbox__BaseUrl"] = Sandbox.Root.AbsoluteUri,
        ["Api__PublicBaseUrl"] = PublicBaseUrl,
        ["Sync__ManualCooldown"] = "00:00:00",
        ["RateLimits__PerTenantPerSecond"] = "100000",
        ["RateLimits__AnonymousPerIpPerSecond"] = "100000",
    };

    private Dictionary<string, string?> WorkerEnvironment() => new(CommonEnvironment())
    {
        ["ASPNETCORE_CONTENTROOT"] = Path.Combine(RepositoryPaths.Root, "src", "Worker"),
        // Every sync may run at once: a run postponed for its provider's limit would be a second job of the same run.
        ["Sync__MaxConcurrentPerProvider"] = "64",
        ["Sync__MaxRetryAfter"] = "00:00:00.200",
        ["Sync__FirstBackoff"] = "00:00:00.050",
    };

    [GeneratedRegex("^Tenant ([0-9a-f-]{36})", RegexOptions.Multiline)]
    private static partial Regex TenantLine();

    [GeneratedRegex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")]
    private static partial Regex GuidPattern();
}
