using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace Aggregator.Sandbox.Authorization;

/// <summary>
/// The authorization server's RSA keys: made at start when the store is in memory, kept as PEM files beside a
/// store file otherwise (tokens issued before a restart must still verify and decrypt after it).
/// </summary>
/// <remarks>
/// The keys are never disposed: Microsoft.IdentityModel caches crypto providers per key id for the whole process,
/// so a host restarted in the same process (as tests do) would otherwise meet a disposed key under the same id.
/// </remarks>
public sealed class OAuthKeys
{
    public OAuthKeys(OAuthStore store)
    {
        var signing = Load(store.KeyFolder, "token-signing.pem");
        var encryption = Load(store.KeyFolder, "token-encryption.pem");
        Signing = new SigningCredentials(new RsaSecurityKey(signing) { KeyId = KeyId(signing) }, SecurityAlgorithms.RsaSha256);
        Encryption = new EncryptingCredentials(new RsaSecurityKey(encryption) { KeyId = KeyId(encryption) },
            SecurityAlgorithms.RsaOAEP, SecurityAlgorithms.Aes256CbcHmacSha512);
    }

    public SigningCredentials Signing { get; }

    public EncryptingCredentials Encryption { get; }

    private static RSA Load(string? folder, string fileName)
    {
        var rsa = RSA.Create(2048);
        if (folder is null)
        {
            return rsa;
        }

        var path = Path.Combine(folder, fileName);
        if (File.Exists(path))
        {
            rsa.ImportFromPem(File.ReadAllText(path));
        }
        else
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(path, rsa.ExportPkcs8PrivateKeyPem());
        }

        return rsa;
    }

    private static string KeyId(RSA rsa) =>
        Base64UrlEncoder.Encode(SHA256.HashData(rsa.ExportSubjectPublicKeyInfo()))[..16];
}
