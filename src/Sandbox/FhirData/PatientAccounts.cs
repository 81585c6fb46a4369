using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Aggregator.Sandbox.FhirData;

/// <summary>Portal logins for loaded patients: readable user ids, stable per-persona passwords.</summary>
public static class PatientAccounts
{
    private static readonly Dictionary<char, char> Folded = new()
    {
        ['á'] = 'a', ['à'] = 'a', ['â'] = 'a', ['ä'] = 'a', ['ã'] = 'a', ['å'] = 'a',
        ['é'] = 'e', ['è'] = 'e', ['ê'] = 'e', ['ë'] = 'e',
        ['í'] = 'i', ['ì'] = 'i', ['î'] = 'i', ['ï'] = 'i',
        ['ó'] = 'o', ['ò'] = 'o', ['ô'] = 'o', ['ö'] = 'o', ['õ'] = 'o', ['ø'] = 'o',
        ['ú'] = 'u', ['ù'] = 'u', ['û'] = 'u', ['ü'] = 'u',
        ['ñ'] = 'n', ['ç'] = 'c', ['ý'] = 'y', ['ÿ'] = 'y',
    };

    /// <summary>The person behind a loaded patient: the same at every persona that serves the file.</summary>
    public static string PersonId(string folder, string source, string patientId) =>
        "person-" + Hash($"{folder}|{source}|{patientId}")[..16];

    public static string Password(string personId, string persona) =>
        $"Sbx-{Hash($"{personId}|{persona}|password")[..10]}";

    /// <summary>"Given Family" from the official (else first) name; DSTU2 writes family as an array.</summary>
    public static string DisplayName(JsonObject patient)
    {
        var names = (patient["name"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var name = names.FirstOrDefault(n => ResourceJson.StringOf(n["use"]) == "official") ?? names.FirstOrDefault();
        if (name is null)
        {
            return ResourceJson.IdOf(patient) ?? "";
        }

        var parts = Strings(name["given"]).Concat(Strings(name["family"])).ToList();
        return parts.Count > 0 ? string.Join(' ', parts) : ResourceJson.StringOf(name["text"]) ?? "";
    }

    /// <summary>A login name like <c>buena.abbott</c>: lower-case ASCII letters and digits.</summary>
    public static string UserNameBase(JsonObject patient)
    {
        var names = (patient["name"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var name = names.FirstOrDefault(n => ResourceJson.StringOf(n["use"]) == "official") ?? names.FirstOrDefault();
        var given = Fold(Strings(name?["given"]).FirstOrDefault() ?? "");
        var family = Fold(string.Concat(Strings(name?["family"])));
        var userName = string.Join('.', new[] { given, family }.Where(s => s.Length > 0));
        return userName.Length > 0 ? userName : "patient";
    }

    private static IEnumerable<string> Strings(JsonNode? node) => node switch
    {
        JsonArray array => array.Select(ResourceJson.StringOf).OfType<string>(),
        _ when ResourceJson.StringOf(node) is { } single => [single],
        _ => [],
    };

    private static string Fold(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text.ToLowerInvariant())
        {
            if (c is (>= 'a' and <= 'z') or (>= '0' and <= '9'))
            {
                builder.Append(c);
            }
            else if (Folded.TryGetValue(c, out var plain))
            {
                builder.Append(plain);
            }
        }

        return builder.ToString();
    }

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
