using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Aggregator.Sandbox.Authorization;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Aggregator.Sandbox.Traffic;

/// <summary>
/// Which patient each issued authorization code and refresh token belongs to, so a token endpoint call can be
/// counted for its patient even when the grant is refused. Only hashes of the codes and tokens are kept.
/// </summary>
public sealed class IssuedGrants
{
    private const int PruneAbove = 20_000;
    private readonly ConcurrentDictionary<string, (string PatientId, DateTimeOffset IssuedAt)> _patients = new(StringComparer.Ordinal);

    public void Remember(string codeOrToken, string patientId, DateTimeOffset now)
    {
        if (_patients.Count > PruneAbove)
        {
            foreach (var old in _patients.Where(p => p.Value.IssuedAt < now.AddDays(-1)).Select(p => p.Key).ToList())
            {
                _patients.TryRemove(old, out _);
            }
        }

        _patients[Hash(codeOrToken)] = (patientId, now);
    }

    public string? PatientOf(string? codeOrToken) =>
        string.IsNullOrEmpty(codeOrToken) ? null : _patients.TryGetValue(Hash(codeOrToken), out var entry) ? entry.PatientId : null;

    private static string Hash(string value) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}

/// <summary>Remembers the patient of every authorization code and refresh token the server signs.</summary>
public sealed class RememberIssuedGrants(IssuedGrants grants, TimeProvider time) : IOpenIddictServerHandler<ProcessSignInContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .UseSingletonHandler<RememberIssuedGrants>()
            .SetOrder(OpenIddictServerHandlers.AttachSignInParameters.Descriptor.Order + 1_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessSignInContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var now = time.GetUtcNow();
        if (context.AuthorizationCode is { Length: > 0 } code && context.AuthorizationCodePrincipal?.GetClaim(OAuthEndpoints.PatientClaim) is { } codePatient)
        {
            grants.Remember(code, codePatient, now);
        }

        if (context.RefreshToken is { Length: > 0 } refresh && context.RefreshTokenPrincipal?.GetClaim(OAuthEndpoints.PatientClaim) is { } refreshPatient)
        {
            grants.Remember(refresh, refreshPatient, now);
        }

        return ValueTask.CompletedTask;
    }
}
