using System.Text.RegularExpressions;

namespace Aggregator.Sandbox.Authorization;

/// <summary>What a granted scope lets the bearer do with one resource type.</summary>
public readonly record struct ResourceAccess(bool Read, bool Search);

/// <summary>
/// SMART App Launch scopes as a patient-facing server supports them: v1 (<c>patient/Observation.read</c>,
/// <c>patient/*.read</c>) and v2 (<c>patient/Observation.rs</c>), plus <c>openid fhirUser launch/patient
/// offline_access online_access profile</c>. Anything else (user/ and system/ scopes, writes, granular
/// query scopes) is not granted.
/// </summary>
public static partial class SmartScopes
{
    public const string OfflineAccess = "offline_access";
    public const string OpenId = "openid";
    public const string FhirUser = "fhirUser";

    private static readonly Dictionary<string, string> Contextual = new(StringComparer.Ordinal)
    {
        [OpenId] = "Confirm who you are (OpenID Connect)",
        [FhirUser] = "Know which patient record is yours",
        ["profile"] = "See your name",
        ["launch/patient"] = "Open your patient record",
        [OfflineAccess] = "Keep access until you revoke it (refresh tokens)",
        ["online_access"] = "Keep access while you are signed in",
    };

    [GeneratedRegex(@"^patient/(\*|[A-Z][A-Za-z]+)\.(read|\*|c?r?u?d?s?)$", RegexOptions.CultureInvariant)]
    private static partial Regex ResourceScope();

    /// <summary>The scopes discovery lists: the contextual ones, then v1 and v2 read scopes for every R4 type served.</summary>
    public static IReadOnlyList<string> Supported { get; } =
    [
        .. Contextual.Keys,
        "patient/*.read",
        "patient/*.rs",
        .. Fhir.FhirResourceTypes.R4PatientTypes.Append("Patient").Concat(Fhir.FhirResourceTypes.ReadableSharedTypes)
            .Order(StringComparer.Ordinal)
            .SelectMany(type => new[] { $"patient/{type}.read", $"patient/{type}.rs" }),
    ];

    /// <summary>Whether this server can grant the scope at all.</summary>
    public static bool IsGrantable(string scope) =>
        Contextual.ContainsKey(scope) || (TryParse(scope, out _, out var access) && (access.Read || access.Search));

    /// <summary>Words a patient understands, for the consent page.</summary>
    public static string Describe(string scope)
    {
        if (Contextual.TryGetValue(scope, out var description))
        {
            return description;
        }

        if (!TryParse(scope, out var type, out var access))
        {
            return scope;
        }

        var what = type == "*" ? "all of your health records" : $"your {type} records";
        return access switch
        {
            { Read: true, Search: true } => $"Read and search {what}",
            { Read: true } => $"Read {what}",
            _ => $"Search {what}",
        };
    }

    /// <summary>The union of what the granted scopes allow on one resource type.</summary>
    public static ResourceAccess AccessTo(IEnumerable<string> grantedScopes, string resourceType)
    {
        var read = false;
        var search = false;
        foreach (var scope in grantedScopes)
        {
            if (TryParse(scope, out var type, out var access) && (type == "*" || type == resourceType))
            {
                read |= access.Read;
                search |= access.Search;
            }
        }

        return new ResourceAccess(read, search);
    }

    private static bool TryParse(string scope, out string type, out ResourceAccess access)
    {
        var match = ResourceScope().Match(scope);
        type = match.Groups[1].Value;
        access = default;
        if (!match.Success)
        {
            return false;
        }

        var permissions = match.Groups[2].Value;
        access = permissions switch
        {
            // v1: read (and *) mean read and search.
            "read" or "*" => new ResourceAccess(true, true),
            // v2: c r u d s, in that order; writes are never granted here.
            _ => new ResourceAccess(permissions.Contains('r', StringComparison.Ordinal), permissions.Contains('s', StringComparison.Ordinal)),
        };
        return true;
    }
}
