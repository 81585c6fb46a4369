using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Aggregator.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.IntegrationTests.Foundation;

/// <summary>With <c>DataProtection:CertificatePath</c>, the key ring that guards every stored token is encrypted at rest.</summary>
public sealed class KeyRingTests(PostgresServer server) : IAsyncLifetime
{
    private readonly TestDatabase _database = new(server);
    private readonly string _folder = Directory.CreateTempSubdirectory("aggregator-keyring-").FullName;

    public async ValueTask InitializeAsync() => await _database.InitializeAsync();

    public async ValueTask DisposeAsync()
    {
        await _database.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Keys_are_stored_encrypted_and_only_a_host_with_the_certificate_can_use_them()
    {
        var certificate = WriteCertificate("keyring.pfx", "test-password");
        var withCertificate = new Dictionary<string, string?> { ["DataProtection:CertificatePath"] = certificate, ["DataProtection:CertificatePassword"] = "test-password" };

        string session;
        Guid patientId;
        await using (var first = new ApiFactory(_database.ConnectionString, withCertificate))
        {
            var (tenant, _) = await first.CreateTenantClientAsync("Coral Health", ConnectedPatients.ReturnUrl);
            patientId = (await tenant.PutPatientAsync("kept-safe")).GetProperty("id").GetGuid();
            var minted = await tenant.PostAsJsonAsync(new Uri($"/v1/patients/{patientId}/session-tokens", UriKind.Relative), new { }, TestContext.Current.CancellationToken);
            session = (await minted.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("token").GetString()!;
        }

        await using var db = _database.CreateContext();
        var stored = await db.DataProtectionKeys.Select(k => k.Xml!).ToListAsync(TestContext.Current.CancellationToken);
        Assert.NotEmpty(stored);
        Assert.All(stored, xml =>
        {
            Assert.Contains("<encryptedSecret", xml, StringComparison.Ordinal);
            Assert.DoesNotContain("<value>", xml, StringComparison.Ordinal);
        });

        // Another host with the certificate reads the stored key ring and accepts the token; one without it cannot.
        await using var second = new ApiFactory(_database.ConnectionString, withCertificate);
        var accepted = await second.CreateClient().WithBearer(session).GetAsync(new Uri($"/v1/patients/{patientId}", UriKind.Relative), TestContext.Current.CancellationToken);
        await using var withoutCertificate = new ApiFactory(_database.ConnectionString);
        var refused = await withoutCertificate.CreateClient().WithBearer(session).GetAsync(new Uri($"/v1/patients/{patientId}", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        // Rotation: a new certificate protects new keys, and the old one, listed under UnprotectWith, still reads the old ones.
        var rotated = new Dictionary<string, string?>
        {
            ["DataProtection:CertificatePath"] = WriteCertificate("keyring-2.pfx", "next-password"),
            ["DataProtection:CertificatePassword"] = "next-password",
            ["DataProtection:UnprotectWith:0:Path"] = certificate,
            ["DataProtection:UnprotectWith:0:Password"] = "test-password",
        };
        await using var third = new ApiFactory(_database.ConnectionString, rotated);
        var afterRotation = await third.CreateClient().WithBearer(session).GetAsync(new Uri($"/v1/patients/{patientId}", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, afterRotation.StatusCode);
    }

    [Fact]
    public async Task Outside_Development_the_Api_and_Worker_refuse_to_start_without_a_key_ring_certificate_and_the_Api_without_its_public_url()
    {
        var production = new Dictionary<string, string?> { ["ConnectionStrings__Aggregator"] = _database.ConnectionString, ["ASPNETCORE_ENVIRONMENT"] = "Production" };

        var (apiCode, apiOutput) = await ExitAsync("Aggregator.Api.dll", new(production) { ["Api__PublicBaseUrl"] = "https://api.example.test" });
        var (workerCode, workerOutput) = await ExitAsync("Aggregator.Worker.dll", production);
        var (noUrlCode, noUrlOutput) = await ExitAsync("Aggregator.Api.dll", new(production)
        {
            ["DataProtection__CertificatePath"] = WriteCertificate("production.pfx", "pw"),
            ["DataProtection__CertificatePassword"] = "pw",
        });

        Assert.Equal(1, apiCode);
        Assert.Contains("DataProtection__CertificatePath", apiOutput, StringComparison.Ordinal);
        Assert.Equal(1, workerCode);
        Assert.Contains("DataProtection__CertificatePath", workerOutput, StringComparison.Ordinal);
        Assert.Equal(1, noUrlCode);
        Assert.Contains("Api__PublicBaseUrl", noUrlOutput, StringComparison.Ordinal);
    }

    /// <summary>Starts a host as a real process; it must give up on its own within a minute.</summary>
    private static async Task<(int Code, string Output)> ExitAsync(string assembly, Dictionary<string, string?> environment)
    {
        await using var host = HostProcess.Start(assembly, environment);
        var code = await host.ExitCodeAsync(TimeSpan.FromSeconds(60));
        return (code, string.Join('\n', host.Output));
    }

    private string WriteCertificate(string name, string password)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=Aggregator key ring (test)", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var path = Path.Combine(_folder, name);
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, password));
        return path;
    }
}
