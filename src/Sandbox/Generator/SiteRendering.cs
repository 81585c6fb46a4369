using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Aggregator.Sandbox.FhirData;

namespace Aggregator.Sandbox.Generator;

/// <summary>One person at one site: the ids the site gives their records, and which facts it holds.</summary>
public sealed class SiteRendering(GeneratedPerson person, SiteConventions site, string idPrefix)
{
    public GeneratedPerson Person => person;

    public SiteConventions Site => site;

    public string PatientId => Id($"{person.PersonId}|patient");

    public string Mrn => Digits($"{person.PersonId}|mrn", 8);

    public string OrganizationId => OrganizationIdOf(site, idPrefix);

    public string PractitionerId => PractitionerIdOf(site, idPrefix);

    public string PatientName => $"{person.Demographics.Given} {person.Demographics.Family}";

    public string PractitionerName => $"Dr. {site.ClinicianGiven} {site.ClinicianFamily}";

    /// <summary>Record ids are stable per persona and fact (the same in R4 and DSTU2 of one persona).</summary>
    public string IdOf(string factId) => Id($"{person.PersonId}|{factId}");

    public string BinaryIdOf(string factId) => Id($"{person.PersonId}|{factId}|binary");

    public bool Holds(string factId) => person.Holds(site.Site, factId);

    public string? EncounterIdOf(ClinicalFact fact) => fact.HoldingAt(site.Site).EncounterFactId is { } encounter ? IdOf(encounter) : null;

    /// <summary>The facts this site holds, of those named (references to facts held elsewhere are left out).</summary>
    public IEnumerable<string> Held(IEnumerable<string> factIds) => factIds.Where(Holds);

    public int Age(DateTimeOffset when) => person.AgeOn(DateOnly.FromDateTime(when.UtcDateTime));

    public static string OrganizationIdOf(SiteConventions site, string idPrefix) => idPrefix + Guid($"{site.Persona}|organization");

    public static string PractitionerIdOf(SiteConventions site, string idPrefix) => idPrefix + Guid($"{site.Persona}|practitioner");

    private string Id(string key) => idPrefix + Guid($"{site.Persona}|{key}");

    private static string Guid(string key) => new Guid(SHA256.HashData(Encoding.UTF8.GetBytes(key)).AsSpan(0, 16)).ToString("D");

    private static string Digits(string key, int count)
    {
        var number = BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes(key)), 0) % (ulong)Math.Pow(10, count);
        return number.ToString(CultureInfo.InvariantCulture).PadLeft(count, '0');
    }
}

/// <summary>Small builders of FHIR JSON shared by both renderers (datatypes that are spelled alike in R4 and DSTU2).</summary>
public static class FhirJson
{
    public static JsonObject Coding(ClinicalCode code) => new() { ["system"] = code.System, ["code"] = code.Code, ["display"] = code.Display };

    public static JsonObject Coding(string system, string code, string? display = null)
    {
        var coding = new JsonObject { ["system"] = system, ["code"] = code };
        if (display is not null)
        {
            coding["display"] = display;
        }

        return coding;
    }

    public static JsonObject Concept(string? text, params IEnumerable<ClinicalCode> codes)
    {
        var concept = new JsonObject { ["coding"] = new JsonArray([.. codes.Select(c => (JsonNode)Coding(c))]) };
        if (text is not null)
        {
            concept["text"] = text;
        }

        return concept;
    }

    public static JsonObject Concept(JsonObject coding, string? text = null)
    {
        var concept = new JsonObject { ["coding"] = new JsonArray(coding) };
        if (text is not null)
        {
            concept["text"] = text;
        }

        return concept;
    }

    public static JsonObject Reference(string type, string id, string? display = null)
    {
        var reference = new JsonObject { ["reference"] = $"{type}/{id}" };
        if (display is not null)
        {
            reference["display"] = display;
        }

        return reference;
    }

    public static JsonArray References(string type, IEnumerable<string> ids) => new([.. ids.Select(id => (JsonNode)Reference(type, id))]);

    public static JsonObject Quantity(decimal value, string unitText, string system, string code) =>
        new() { ["value"] = value, ["unit"] = unitText, ["system"] = system, ["code"] = code };

    public static JsonObject Meta(DateTimeOffset lastUpdated) =>
        new() { ["versionId"] = "1", ["lastUpdated"] = FhirDateTime.FormatInstant(lastUpdated) };

    public static string Instant(DateTimeOffset value) => FhirDateTime.FormatInstant(value);

    public static string Date(DateOnly value) => value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static string Date(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static JsonObject Narrative(string text) => new()
    {
        ["status"] = "generated",
        ["div"] = $"<div xmlns=\"http://www.w3.org/1999/xhtml\">{System.Net.WebUtility.HtmlEncode(text)}</div>",
    };

    public static JsonObject Period(DateTimeOffset start, DateTimeOffset? end = null)
    {
        var period = new JsonObject { ["start"] = Instant(start) };
        if (end is { } value)
        {
            period["end"] = Instant(value);
        }

        return period;
    }

    /// <summary>The value in the site's unit: converted and rounded to the site unit's precision.</summary>
    public static (decimal Value, string Unit, string UnitText) InSiteUnit(SiteConventions site, ObservationDefinition test, decimal value)
    {
        var (unit, unitText, factor, decimals) = site.UnitFor(test);
        return (factor == 1m ? value : Math.Round(value * factor, decimals, MidpointRounding.AwayFromZero), unit, unitText);
    }
}
