using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Aggregator.Domain.Sync;
using Aggregator.Domain.Tenants;
using Aggregator.Infrastructure.Persistence;
using Aggregator.Infrastructure.Tenants;
using Aggregator.Sandbox.Demo;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Aggregator.Benchmarks;

/// <summary>
/// The whole system as deployed, for the benchmarks that measure it from outside: the sandbox and the Api as processes
/// of their own (Release builds), Workers started and stopped on demand, our infrastructure in this process for what
/// the benchmark sets up or reads directly, one tenant, and patients connected through the real SMART flow.
/// </summary>
internal sealed class BenchSystem : IAsyncDisposable
{
    private const string ReturnUrl = "https://bench.example/connected";
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private readonly string _repo;
    private readonly string _keyRing;
    private readonly List<ChildProcess> _processes = [];
    private IHost? _host;

    private BenchSystem(string repo, string connectionString, string keyRing)
    {
        _repo = repo;
        ConnectionString = connectionString;
        _keyRing = keyRing;
    }

    public string ConnectionString { get; }

    public ChildProcess Sandbox { get; private set; } = null!;

    public ChildProcess Api { get; private set; } = null!;

    public Guid TenantId { get; private set; }

    /// <summary>The tenant's API key.</summary>
    public string ApiKey { get; private set; } = null!;

    public IServiceProvider Services => _host!.Services;

    /// <summary>The Release builds the benchmark runs, or a message naming the missing ones.</summary>
    public static string? Missing(string repo)
    {
        var missing = new[] { "Api", "Worker", "Sandbox" }.Select(p => Dll(repo, p)).Where(p => !File.Exists(p)).ToList();
        return missing.Count == 0 ? null : $"build the hosts in Release first (dotnet build src/Api -c Release, and src/Worker, src/Sandbox); missing: {string.Join(", ", missing)}";
    }

    /// <summary>
    /// Starts the sandbox (with <paramref name="sandboxSettings"/> over its test settings) and the Api (Production, rate
    /// limits lifted), builds the in-process host (<paramref name="hostSettings"/> over a Worker's), and makes the tenant.
    /// </summary>
    public static async Task<BenchSystem> StartAsync(
        string repo, string connectionString, string keyRing, Dictionary<string, string> sandboxSettings, Dictionary<string, string?>? hostSettings = null)
    {
        var system = new BenchSystem(repo, connectionString, keyRing);
        try
        {
            await system.StartAsync(sandboxSettings, hostSettings);
            return system;
        }
        catch
        {
            await system.DisposeAsync();
            throw;
        }
    }

    private async Task StartAsync(Dictionary<string, string> sandboxSettings, Dictionary<string, string?>? hostSettings)
    {
        Sandbox = Start("sandbox", "Sandbox", new(sandboxSettings)
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Sandbox__TestApi"] = "true",
            ["Logging__LogLevel__Default"] = "Warning",
        });
        await Sandbox.WaitReadyAsync();

        // The Api migrates and puts the sandbox's personas in the directory; it serves the connect flow. Its own address
        // is the public one: the patient's browser comes back to it from the sandbox.
        var apiPort = BenchDatabase.FreePort();
        Api = Start("Api", "Api", new(Production())
        {
            ["Api__PublicBaseUrl"] = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{apiPort}"),
            ["Sandbox__BaseUrl"] = Sandbox.Url.AbsoluteUri,
            // The benchmark measures throughput, not the per-tenant rate limit.
            ["RateLimits__PerTenantPerSecond"] = "1000000",
            ["RateLimits__AnonymousPerIpPerSecond"] = "1000000",
        }, apiPort);
        await Api.WaitReadyAsync();

        _host = BenchHost.Build(ConnectionString, _keyRing, hostSettings);
        await using var scope = Services.CreateAsyncScope();
        using var system = scope.ServiceProvider.GetRequiredService<CurrentTenant>().ActAsSystem();
        var (_, key) = await scope.ServiceProvider.GetRequiredService<TenantAdministration>()
            .CreateTenantAsync("Bench", new TenantSettings([ReturnUrl], null, null), ApiKeyEnvironment.Test, CancellationToken.None);
        TenantId = key.TenantId;
        ApiKey = key.Key;
    }

    /// <summary>An HTTP client of the Api with the tenant's key.</summary>
    public HttpClient ApiClient(TimeSpan? timeout = null)
    {
        var api = new HttpClient { BaseAddress = Api.Url, Timeout = timeout ?? TimeSpan.FromMinutes(2) };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        return api;
    }

    /// <summary>The sandbox's generated logins (person, then persona, then FHIR version).</summary>
    public async Task<List<PortalLogin>> GeneratedLoginsAsync()
    {
        using var sandbox = new HttpClient { BaseAddress = Sandbox.Url };
        return [.. (await sandbox.GetFromJsonAsync<List<PortalLogin>>(new Uri("_test/patients", UriKind.Relative), Web))!
            .Where(l => l.Source == "generated").OrderBy(l => l.PersonId, StringComparer.Ordinal).ThenBy(l => l.Persona, StringComparer.Ordinal)
            .ThenBy(l => l.FhirVersion, StringComparer.Ordinal)];
    }

    /// <summary>
    /// Connects each login as a patient of its own (external ids <c>{prefix}-{n}</c>) through the SMART flow, eight at
    /// once; returns each one's patient and connection, in the logins' order.
    /// </summary>
    public async Task<(Guid Patient, Guid Connection)[]> ConnectAsync(IReadOnlyList<PortalLogin> logins, string prefix)
    {
        using var api = ApiClient();
        var partner = new AggregatorPartner(api);
        var providers = new Dictionary<string, Guid>(StringComparer.Ordinal);
        foreach (var slug in logins.Select(Slug).Distinct())
        {
            providers[slug] = await partner.ProviderIdAsync(slug, CancellationToken.None);
        }

        var agent = new PatientAgent(Sandbox.Url);
        var made = new (Guid, Guid)[logins.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, logins.Count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            var patientId = await partner.PutPatientAsync(string.Create(CultureInfo.InvariantCulture, $"{prefix}-{i}"), ct);
            var (connectionId, authorizeUrl) = await partner.StartConnectAsync(patientId, providers[Slug(logins[i])], new Uri(ReturnUrl), ct);
            var landing = await agent.ConnectAsync(authorizeUrl, logins[i], ct);
            if (PatientAgent.Failure(landing) is { } failure)
            {
                throw new InvalidOperationException($"Connecting {logins[i].Username} failed: {failure}");
            }

            await partner.ConfirmAsync(connectionId, PatientAgent.ResultCode(landing), ct);
            made[i] = (patientId, connectionId);
        });
        return made;
    }

    private static string Slug(PortalLogin login) => $"sandbox-{login.Persona}-{login.FhirVersion.ToLowerInvariant()}";

    /// <summary>A Worker as deployed (Production, the key ring's certificate), with <paramref name="settings"/> over it.</summary>
    public ChildProcess StartWorker(Dictionary<string, string> settings)
    {
        var environment = Production();
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }

        return Start("Worker", "Worker", environment);
    }

    /// <summary>
    /// Waits until each of <paramref name="connections"/> has a run queued after <paramref name="since"/> and all of the
    /// tenant's runs queued since then have ended; returns them.
    /// </summary>
    public async Task<List<SyncRun>> WaitForRunsAsync(IReadOnlyCollection<Guid> connections, DateTimeOffset since, TimeSpan? within = null)
    {
        var deadline = DateTimeOffset.UtcNow + (within ?? TimeSpan.FromHours(1));
        while (true)
        {
            await using var db = AggregatorDbContext.ForSystem(Services.GetRequiredService<NpgsqlDataSource>());
            var runs = await db.SyncRuns.AsNoTracking().Where(r => r.TenantId == TenantId && r.QueuedAt > since).ToListAsync();
            var ended = runs.Where(r => r.Status is SyncRunStatus.Succeeded or SyncRunStatus.Partial or SyncRunStatus.Failed).ToList();
            if (connections.All(c => runs.Any(r => r.ConnectionId == c)) && ended.Count == runs.Count)
            {
                return ended;
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new InvalidOperationException($"Runs did not end in time: {ended.Count} of {runs.Count} ended.");
            }

            await Task.Delay(500);
        }
    }

    public static string Dll(string repo, string project) => Path.Combine(repo, "src", project, "bin", "Release", "net10.0", $"Aggregator.{project}.dll");

    private Dictionary<string, string> Production() => new()
    {
        ["ConnectionStrings__Aggregator"] = ConnectionString,
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["DataProtection__CertificatePath"] = _keyRing,
        ["DataProtection__CertificatePassword"] = "",
        ["Worker__InProcess"] = "false",
        ["Serilog__MinimumLevel__Default"] = "Warning",
    };

    private ChildProcess Start(string name, string project, Dictionary<string, string> environment, int port = 0)
    {
        var process = ChildProcess.Start(name, Dll(_repo, project), environment, port);
        _processes.Add(process);
        return process;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        NpgsqlConnection.ClearAllPools();
        _host?.Dispose();
    }
}
