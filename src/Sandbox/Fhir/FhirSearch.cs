using System.Globalization;
using System.Text.Json;
using Aggregator.Sandbox.Faults;
using Aggregator.Sandbox.FhirData;
using Aggregator.Sandbox.Personas;
using Microsoft.AspNetCore.Http.Extensions;

namespace Aggregator.Sandbox.Fhir;

/// <summary>
/// Type searches over one base: parameter checks (400 OperationOutcome for anything unsupported),
/// matching, keyset paging with expiring links, <c>_include</c> and <c>_revinclude</c>.
/// </summary>
public sealed class FhirSearch(PageLinks pageLinks, TimeProvider time, FaultInjector faults)
{
    private const string PageParameter = "_page";

    private static readonly HashSet<string> IgnoredParameters = new(StringComparer.Ordinal) { "_format", "_pretty" };

    private static readonly HashSet<string> DateSearchPrefixes = new(StringComparer.Ordinal) { "eq", "gt", "ge", "lt", "le" };

    /// <param name="contextPatient">The patient an access token is limited to, or null when unrestricted.</param>
    /// <param name="mayRead">Whether the caller may read a resource type; included resources it may not read are left out.</param>
    public FhirResult Search(FhirBase fhirBase, FhirDataset dataset, string type, HttpRequest request,
        IReadOnlyList<KeyValuePair<string, string>> parameters, string? contextPatient, Func<string, bool> mayRead)
    {
        var version = fhirBase.Version;
        if (parameters.FirstOrDefault(p => p.Key == PageParameter).Value is { } token)
        {
            return NextPage(fhirBase, dataset, type, request, token, contextPatient, mayRead);
        }

        var criteria = parameters.Where(p => !IgnoredParameters.Contains(p.Key) && p.Value.Length > 0).ToList();
        var count = fhirBase.Persona.Options.DefaultPageSize;
        if (criteria.Where(p => p.Key == "_count").Select(p => p.Value).LastOrDefault() is { } countText)
        {
            if (!int.TryParse(countText, NumberStyles.None, CultureInfo.InvariantCulture, out count))
            {
                return FhirResult.Outcome(version, 400, "invalid", $"_count must be a non-negative integer, not '{countText}'.");
            }
        }

        count = Math.Min(count, fhirBase.Persona.Options.MaxPageSize);
        criteria.RemoveAll(p => p.Key == "_count");

        foreach (var required in fhirBase.Persona.RequiredSearchParameters(type))
        {
            if (!criteria.Any(p => p.Key == required))
            {
                return FhirResult.Outcome(version, 400, "required",
                    $"This server requires the '{required}' parameter when searching {type}.");
            }
        }

        var state = new PageState
        {
            Persona = fhirBase.Persona.Name,
            Version = version.DisplayName(),
            Type = type,
            Parameters = criteria.Select(p => new[] { p.Key, p.Value }).ToList(),
            Count = count,
        };
        return Run(fhirBase, dataset, request, state, after: null, contextPatient, mayRead);
    }

    private FhirResult NextPage(FhirBase fhirBase, FhirDataset dataset, string type, HttpRequest request, string token,
        string? contextPatient, Func<string, bool> mayRead)
    {
        var version = fhirBase.Version;
        var status = pageLinks.TryRead(token, out var state);
        if (status == PageLinkStatus.Invalid || state is null || state.Persona != fhirBase.Persona.Name
            || state.Version != version.DisplayName() || state.Type != type)
        {
            return FhirResult.Outcome(version, 400, "invalid", "The paging link is not valid here.");
        }

        if (status == PageLinkStatus.Expired || faults.LinkExpired(fhirBase.Persona.Name, state.Patient, state.IssuedSerial))
        {
            return FhirResult.Outcome(version, 410, "not-found", "The paging link has expired; run the search again.");
        }

        return Run(fhirBase, dataset, request, state, (state.AfterTicks, state.AfterId), contextPatient, mayRead);
    }

    private FhirResult Run(FhirBase fhirBase, FhirDataset dataset, HttpRequest request, PageState state,
        (long Ticks, string Id)? after, string? contextPatient, Func<string, bool> mayRead)
    {
        var version = fhirBase.Version;
        var type = state.Type;
        var filters = new List<Func<StoredResource, bool>>();
        var includeMedication = false;
        var revIncludeProvenance = false;
        string? patientId = null;
        var supported = FhirResourceTypes.SearchParameters(type).ToHashSet(StringComparer.Ordinal);
        foreach (var pair in state.Parameters)
        {
            var (name, value) = (pair[0], pair[1]);
            string? error = null;
            switch (name)
            {
                case "_id":
                    var ids = value.Split(',').ToHashSet(StringComparer.Ordinal);
                    filters.Add(r => ids.Contains(r.Id));
                    break;
                case "_lastUpdated":
                    error = AddLastUpdatedFilter(value, filters);
                    break;
                case "_include":
                    includeMedication = FhirResourceTypes.HasMedication(type) && value == $"{type}:medication";
                    error = includeMedication ? null : $"_include={value} is not supported; this server supports {type}:medication on medication orders.";
                    break;
                case "_revinclude":
                    revIncludeProvenance = value == "Provenance:target";
                    error = revIncludeProvenance ? null : $"_revinclude={value} is not supported; this server supports Provenance:target.";
                    break;
                case "patient" when supported.Contains(name):
                    patientId = PatientIdOf(value);
                    break;
                case "category" when supported.Contains(name):
                    filters.Add(TokenFilter(value, r => r.Categories));
                    break;
                case "code" when supported.Contains(name):
                    filters.Add(TokenFilter(value, r => r.Codes));
                    break;
                case "status" when supported.Contains(name):
                    filters.Add(TokenFilter(value, r => r.Statuses));
                    break;
                case "intent" when supported.Contains(name):
                    filters.Add(TokenFilter(value, r => r.Intents));
                    break;
                default:
                    error = $"The search parameter '{name}' is not supported for {type}.";
                    break;
            }

            if (error is not null)
            {
                return FhirResult.Outcome(version, 400, "not-supported", error);
            }
        }

        if (contextPatient is not null)
        {
            if (patientId is not null && patientId != contextPatient)
            {
                return FhirResult.Outcome(version, 403, "forbidden", "The access token does not cover that patient.");
            }

            patientId = contextPatient;
        }

        IReadOnlyList<StoredResource> candidates;
        if (type == "Patient")
        {
            candidates = patientId is null
                ? dataset.OfType("Patient")
                : dataset.Find("Patient", patientId) is { } patient ? [patient] : [];
        }
        else if (patientId is null)
        {
            return FhirResult.Outcome(version, 400, "required", $"Searching {type} requires the 'patient' parameter.");
        }
        else
        {
            candidates = dataset.InCompartment(patientId, type);
        }

        var matches = candidates.Where(r => filters.TrueForAll(f => f(r))).ToList();
        var start = 0;
        if (after is { } key)
        {
            while (start < matches.Count && CompareKey(matches[start], key) <= 0)
            {
                start++;
            }
        }

        var page = matches.Skip(start).Take(state.Count).ToList();
        string? next = null;
        if (start + page.Count < matches.Count && page.Count > 0)
        {
            state.Patient = patientId;
            state.AfterTicks = page[^1].LastUpdated.UtcTicks;
            state.AfterId = page[^1].Id;
            next = $"{fhirBase.Url(request)}/{type}?{PageParameter}={pageLinks.Issue(state)}";
        }

        var quirks = faults.PageQuirks(fhirBase.Persona.Name, contextPatient);
        if (next is not null && quirks.HasFlag(PageQuirks.RelativeLinks))
        {
            next = next[fhirBase.Url(request).Length..];
        }

        var included = new List<StoredResource>();
        if (includeMedication)
        {
            included.AddRange(page.Select(r => r.MedicationReference).OfType<string>().Distinct(StringComparer.Ordinal)
                .Select(dataset.Find).OfType<StoredResource>());
        }

        if (revIncludeProvenance)
        {
            included.AddRange(page.SelectMany(r => dataset.ProvenanceFor(r.Reference)).Distinct());
        }

        included.RemoveAll(r => !mayRead(r.Type) || (r.PatientId is not null && contextPatient is not null && r.PatientId != contextPatient));

        var baseUrl = fhirBase.Url(request);
        var self = request.GetEncodedUrl();
        var now = time.GetUtcNow();
        var malformed = page.Count > 0 && faults.TakeMalformed(fhirBase.Persona.Name, contextPatient) ? page[0] : null;
        return FhirResult.Json(version, writer => WriteBundle(writer, baseUrl, self, next, matches.Count, page, included, now, malformed, quirks));
    }

    private static void WriteBundle(Utf8JsonWriter writer, string baseUrl, string self, string? next, int total,
        List<StoredResource> page, List<StoredResource> included, DateTimeOffset now, StoredResource? malformed, PageQuirks quirks)
    {
        writer.WriteStartObject();
        writer.WriteString("resourceType", "Bundle");
        writer.WriteString("id", Guid.NewGuid().ToString());
        writer.WriteStartObject("meta");
        writer.WriteString("lastUpdated", FhirDateTime.FormatInstant(now));
        writer.WriteEndObject();
        writer.WriteString("type", "searchset");
        writer.WriteNumber("total", total);
        writer.WriteStartArray("link");
        WriteLink(writer, "self", self);
        if (next is not null)
        {
            WriteLink(writer, "next", next);
        }

        if (quirks.HasFlag(PageQuirks.OddJson))
        {
            OddJson.WriteLinks(writer);
        }

        writer.WriteEndArray();
        writer.WriteStartArray("entry");
        foreach (var (resource, mode) in page.Select(r => (r, "match")).Concat(included.Select(r => (r, "include"))))
        {
            var json = ReferenceEquals(resource, malformed) ? MalformedResource.From(resource.Json) : resource.Json;
            writer.WriteStartObject();
            writer.WriteString("fullUrl", $"{baseUrl}/{resource.Type}/{resource.Id}");
            writer.WritePropertyName("resource");
            writer.WriteRawValue(AttachmentUrls.Rewrite(json, quirks, baseUrl), skipInputValidation: true);
            writer.WriteStartObject("search");
            writer.WriteString("mode", mode);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        if (quirks.HasFlag(PageQuirks.OddJson) && page.Count > 0)
        {
            OddJson.WriteEntries(writer, page[0].Json);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteLink(Utf8JsonWriter writer, string relation, string url)
    {
        writer.WriteStartObject();
        writer.WriteString("relation", relation);
        writer.WriteString("url", url);
        writer.WriteEndObject();
    }

    private static int CompareKey(StoredResource resource, (long Ticks, string Id) key)
    {
        var byTime = resource.LastUpdated.UtcTicks.CompareTo(key.Ticks);
        return byTime != 0 ? byTime : string.CompareOrdinal(resource.Id, key.Id);
    }

    /// <summary><c>123</c>, <c>Patient/123</c> and <c>{base}/Patient/123</c> all name patient 123.</summary>
    private static string PatientIdOf(string value)
    {
        var at = value.LastIndexOf("Patient/", StringComparison.Ordinal);
        return at >= 0 ? value[(at + "Patient/".Length)..] : value;
    }

    /// <summary>Comma means OR: <c>system|code</c>, <c>code</c>, <c>|code</c> (no system) or <c>system|</c>.</summary>
    private static Func<StoredResource, bool> TokenFilter(string value, Func<StoredResource, IReadOnlyList<SearchToken>> tokensOf)
    {
        var wanted = value.Split(',').Select(ParseToken).ToList();
        return resource => tokensOf(resource).Any(token => wanted.Exists(w => w(token)));

        static Func<SearchToken, bool> ParseToken(string text)
        {
            var bar = text.IndexOf('|', StringComparison.Ordinal);
            if (bar < 0)
            {
                return token => token.Code == text;
            }

            var system = text[..bar];
            var code = text[(bar + 1)..];
            if (system.Length == 0)
            {
                return token => string.IsNullOrEmpty(token.System) && token.Code == code;
            }

            return code.Length == 0
                ? token => token.System == system
                : token => token.System == system && token.Code == code;
        }
    }

    /// <summary>FHIR date search over an instant: the value covers a range as wide as its precision.</summary>
    private static string? AddLastUpdatedFilter(string value, List<Func<StoredResource, bool>> filters)
    {
        var prefix = "eq";
        // An unencoded '+' of a zone offset arrives as a space.
        var date = value.Replace(' ', '+');
        if (value.Length > 2 && char.IsAsciiLetterLower(value[0]) && char.IsAsciiLetterLower(value[1]))
        {
            prefix = value[..2];
            date = date[2..];
            if (!DateSearchPrefixes.Contains(prefix))
            {
                return $"The prefix '{prefix}' is not supported for _lastUpdated; use eq, gt, ge, lt or le.";
            }
        }

        if (!FhirDateTime.TryParseRange(date, out var start, out var end))
        {
            return $"'{value}' is not a valid _lastUpdated value.";
        }

        filters.Add(prefix switch
        {
            "gt" => r => r.LastUpdated >= end,
            "ge" => r => r.LastUpdated >= start,
            "lt" => r => r.LastUpdated < start,
            "le" => r => r.LastUpdated < end,
            _ => r => r.LastUpdated >= start && r.LastUpdated < end,
        });
        return null;
    }
}
