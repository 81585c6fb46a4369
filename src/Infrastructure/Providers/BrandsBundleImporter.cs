using System.Text.Json;
using Aggregator.Domain.Providers;

namespace Aggregator.Infrastructure.Providers;

/// <param name="Skipped">Organisations without a usable endpoint (none, not https, not an absolute url).</param>
/// <param name="Collisions">Endpoints that would have re-pointed or duplicated an entry already in the directory, with the reason.</param>
public sealed record BrandsImportResult(int Imported, IReadOnlyList<string> Skipped, IReadOnlyList<string> Collisions);

/// <summary>
/// Imports a SMART User-access Brands bundle: Organizations (brands and their facilities, linked by
/// <c>partOf</c>) that point to Endpoints (FHIR bases). One directory entry per Endpoint, named after
/// the organisation that points to it, branded after the top of its <c>partOf</c> chain. An import never
/// re-points an existing entry to another base or drops what an operator configured for it
/// (<see cref="ProviderAdministration.ImportAsync"/>): collisions are reported and skipped.
/// </summary>
public sealed class BrandsBundleImporter(ProviderAdministration directory)
{
    public const string Origin = "brands";
    private const string FhirVersionExtension = "http://hl7.org/fhir/StructureDefinition/endpoint-fhir-version";

    public async Task<BrandsImportResult> ImportAsync(Stream bundle, CancellationToken cancellationToken)
    {
        using var document = await JsonDocument.ParseAsync(bundle, cancellationToken: cancellationToken);
        if (!document.RootElement.TryGetProperty("resourceType", out var type) || type.GetString() != "Bundle")
        {
            throw new ArgumentException("The file is not a FHIR Bundle.", nameof(bundle));
        }

        var resources = document.RootElement.TryGetProperty("entry", out var entries) && entries.ValueKind == JsonValueKind.Array
            ? entries.EnumerateArray().Where(e => e.TryGetProperty("resource", out _)).Select(e => e.GetProperty("resource")).ToList()
            : [];
        var endpoints = resources.Where(r => Str(r, "resourceType") == "Endpoint" && Str(r, "id") is not null).ToDictionary(r => Str(r, "id")!, StringComparer.Ordinal);
        var organizations = resources.Where(r => Str(r, "resourceType") == "Organization" && Str(r, "id") is not null).ToDictionary(r => Str(r, "id")!, StringComparer.Ordinal);

        var imported = 0;
        var skipped = new List<string>();
        var collisions = new List<string>();
        foreach (var organization in organizations.Values)
        {
            if (!organization.TryGetProperty("endpoint", out var references) || references.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (var reference in references.EnumerateArray())
            {
                var endpointId = Str(reference, "reference")?.Split('/')[^1];
                if (endpointId is null || !endpoints.TryGetValue(endpointId, out var endpoint)
                    || Str(endpoint, "address") is not { } address || !Uri.TryCreate(address, UriKind.Absolute, out var baseUrl))
                {
                    skipped.Add(Str(organization, "name") ?? Str(organization, "id")!);
                    continue;
                }

                var name = Str(organization, "name") ?? Str(endpoint, "name") ?? baseUrl.Host;
                if (baseUrl.Scheme != Uri.UriSchemeHttps && !baseUrl.IsLoopback)
                {
                    // Tokens and patient data only travel over https.
                    skipped.Add(name);
                    continue;
                }

                var collision = await directory.ImportAsync(new ProviderEntry(
                    Slug: $"brands-{endpointId}".ToLowerInvariant(),
                    Name: name,
                    Brand: BrandName(organization, organizations) ?? name,
                    FhirVersion: VersionOf(endpoint),
                    FhirBaseUrl: baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl.AbsoluteUri : baseUrl.AbsoluteUri + "/",
                    Location: LocationOf(organization)), Origin, cancellationToken);
                if (collision is not null)
                {
                    collisions.Add($"{name}: {collision}");
                    continue;
                }

                imported++;
            }
        }

        await directory.SaveAsync(cancellationToken);
        return new BrandsImportResult(imported, skipped, collisions);
    }

    /// <summary>The top organisation of the <c>partOf</c> chain (the brand), bounded against loops.</summary>
    private static string? BrandName(JsonElement organization, Dictionary<string, JsonElement> organizations)
    {
        var current = organization;
        for (var depth = 0; depth < 10; depth++)
        {
            var parentId = current.TryGetProperty("partOf", out var partOf) ? Str(partOf, "reference")?.Split('/')[^1] : null;
            if (parentId is null || !organizations.TryGetValue(parentId, out var parent))
            {
                break;
            }

            current = parent;
        }

        return Str(current, "name");
    }

    private static FhirVersion VersionOf(JsonElement endpoint)
    {
        if (endpoint.TryGetProperty("extension", out var extensions) && extensions.ValueKind == JsonValueKind.Array)
        {
            foreach (var extension in extensions.EnumerateArray())
            {
                if (Str(extension, "url") == FhirVersionExtension && Str(extension, "valueCode") is { } version)
                {
                    return version.StartsWith("1.0", StringComparison.Ordinal) ? FhirVersion.Dstu2 : FhirVersion.R4;
                }
            }
        }

        return FhirVersion.R4;
    }

    private static string? LocationOf(JsonElement organization)
    {
        if (!organization.TryGetProperty("address", out var addresses) || addresses.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var parts = addresses.EnumerateArray()
            .Select(a => string.Join(", ", new[] { Str(a, "city"), Str(a, "state"), Str(a, "postalCode") }.Where(p => !string.IsNullOrEmpty(p))))
            .Where(p => p.Length > 0)
            .Distinct(StringComparer.Ordinal)
            .Take(5);
        var location = string.Join("; ", parts);
        return location.Length == 0 ? null : location;
    }

    private static string? Str(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
