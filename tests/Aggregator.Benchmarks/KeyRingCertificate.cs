using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Aggregator.Benchmarks;

/// <summary>
/// The throwaway self-signed certificate (PKCS#12, empty password) that protects the benchmark's key ring: Production
/// refuses to start without one. One per run, shared by the in-process services and the Api process, deleted at the end.
/// </summary>
public sealed class KeyRingCertificate : IDisposable
{
    public KeyRingCertificate()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"aggregator-bench-keyring-{Guid.NewGuid():N}.pfx");
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=Aggregator benchmark key ring", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllBytes(Path, certificate.Export(X509ContentType.Pfx, ""));
    }

    public string Path { get; }

    public void Dispose() => File.Delete(Path);
}
