using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aggregator.Infrastructure.Connections;
using Aggregator.Infrastructure.Secrets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.IntegrationTests.Infrastructure;

/// <summary>
/// One test class's world: its own database cloned from the template, the Api against it (with the
/// sandbox's personas in its directory, running jobs when asked), and a tenant "Coral Health" with a key.
/// </summary>
public abstract class ApiTestBase(
    PostgresServer server,
    SandboxProvider sandbox,
    bool jobServer = false,
    Action<IServiceCollection>? configureServices = null,
    IReadOnlyDictionary<string, string?>? settings = null)
    : IAsyncLifetime
{
    protected TestDatabase Database { get; } = new(server);

    protected SandboxProvider Sandbox { get; } = sandbox;

    protected ApiFactory Api { get; private set; } = null!;

    /// <summary>A client that calls with the tenant's API key.</summary>
    protected HttpClient Tenant { get; private set; } = null!;

    protected Guid TenantId { get; private set; }

    /// <summary>The id of the tenant's API key (what audit events name as the actor).</summary>
    protected Guid TenantKeyId { get; private set; }

    public virtual async ValueTask InitializeAsync()
    {
        await Database.InitializeAsync();
        Api = ApiFactory.WithSandbox(Database.ConnectionString, Sandbox, configureServices, jobServer, settings);
        var (client, key) = await Api.CreateTenantClientAsync("Coral Health", ConnectedPatients.ReturnUrl);
        Tenant = client;
        TenantId = key.TenantId;
        TenantKeyId = key.KeyId;
    }

    /// <summary>A connection's tokens as stored (decrypted with the Api's key ring).</summary>
    protected async Task<TokenSet> ReadTokensAsync(Guid connectionId)
    {
        await using var db = Database.CreateContext();
        var stored = (await db.Connections.SingleAsync(c => c.Id == connectionId)).TokenSetProtected!;
        return TokenSet.Unprotect(Api.Services.GetRequiredService<SecretProtector>(), stored);
    }

    /// <summary>A client that calls as the patient, with a session token the tenant minted for them.</summary>
    protected async Task<HttpClient> SessionClientAsync(Guid patientId)
    {
        var minted = await Tenant.PostAsJsonAsync(new Uri($"/v1/patients/{patientId}/session-tokens", UriKind.Relative), new { lifetimeMinutes = 15 }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, minted.StatusCode);
        var token = (await minted.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("token").GetString()!;
        return Api.CreateClient().WithBearer(token);
    }

    /// <summary>A browser that signs in at the sandbox and hands the callback to this Api.</summary>
    protected PatientBrowser Browser() => new(Sandbox, Api.CreateBrowserClient());

    public virtual async ValueTask DisposeAsync()
    {
        await Api.DisposeAsync();
        await Database.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
