using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;

namespace Aggregator.Domain.Records;

/// <summary>
/// One stored source resource, in R4 (DSTU2 resources already converted), with the provider that served it. It keeps
/// its content as UTF-8 JSON and parses it when asked. A rebuild knows every source of a patient at once but needs the
/// content of only a few at a time: it may let go of a source's content (<see cref="ReleaseContent"/>) and read it
/// again from the store (<see cref="StoreId"/>, <see cref="LoadContent"/>) when it is needed.
/// </summary>
public sealed class StoredResource
{
    private byte[]? _json;

    /// <param name="resourceType">The type as the provider named it (e.g. <c>MedicationOrder</c> from a DSTU2 server).</param>
    /// <param name="json">The resource's R4 JSON, UTF-8.</param>
    /// <param name="storeId">Where the store keeps it, to read the content again (0 when it is not stored).</param>
    public StoredResource(Guid connectionId, string provider, string resourceType, string resourceId, DateTimeOffset? lastUpdated, byte[] json, long storeId = 0)
    {
        ArgumentNullException.ThrowIfNull(json);
        (ConnectionId, Provider, ResourceType, ResourceId, LastUpdated, _json, StoreId) = (connectionId, provider, resourceType, resourceId, lastUpdated, json, storeId);
        // Mostly the same name: one string for both, not one more per resource of a large record.
        Type = TypeIn(json) is { } stated && !string.Equals(stated, resourceType, StringComparison.Ordinal) ? stated : resourceType;
    }

    public StoredResource(Guid connectionId, string provider, string resourceType, string resourceId, DateTimeOffset? lastUpdated, JsonElement resource)
        : this(connectionId, provider, resourceType, resourceId, lastUpdated, Encoding.UTF8.GetBytes(resource.GetRawText()))
    {
    }

    public Guid ConnectionId { get; }
    public string Provider { get; }

    /// <summary>The type as the provider named it (e.g. <c>MedicationOrder</c> from a DSTU2 server).</summary>
    public string ResourceType { get; }
    public string ResourceId { get; }
    public DateTimeOffset? LastUpdated { get; }

    /// <summary>The type its content states (R4: a DSTU2 <c>MedicationOrder</c> is stored as a <c>MedicationRequest</c>).</summary>
    public string Type { get; }

    /// <summary>The store's key of the resource (its row), to read its content again once released.</summary>
    public long StoreId { get; }

    /// <summary>Whether the content is held (not released, or loaded again).</summary>
    public bool HasContent => _json is not null;

    /// <summary>The content, parsed afresh (owned by the caller; nothing is kept).</summary>
    public JsonElement Parse() => JsonElement.Parse(Content);

    /// <summary>The content as a mutable tree.</summary>
    public JsonObject ToNode() => JsonNode.Parse(Content)!.AsObject();

    /// <summary>Lets go of the content: what is known of the resource stays, its JSON is read again when needed.</summary>
    public void ReleaseContent() => _json = null;

    /// <summary>The content read again from the store (the resource's JSON as it is stored now).</summary>
    public void LoadContent(byte[] json)
    {
        ArgumentNullException.ThrowIfNull(json);
        _json = json;
    }

    private byte[] Content => _json ?? throw new InvalidOperationException($"The content of {ResourceType}/{ResourceId} was released and not loaded again.");

    /// <summary>The top-level <c>resourceType</c>, read without building a document.</summary>
    private static string? TypeIn(byte[] json)
    {
        var reader = new Utf8JsonReader(json);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
            {
                if (reader.ValueTextEquals("resourceType"u8))
                {
                    return reader.Read() && reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }

                reader.Skip();
            }
        }

        return null;
    }
}

/// <summary>A source of a merged item, by the provider's names.</summary>
public readonly record struct SourceKey(Guid ConnectionId, string ResourceType, string ResourceId);

/// <summary>One merged item of the record: its sources, and the one whose content the record shows.</summary>
public sealed record FhirViewItem(Guid Id, string Category, DateTimeOffset UpdatedAt, string? MergedBy, IReadOnlyList<SourceKey> Sources, SourceKey Shown);

/// <summary>
/// One resource of the view, with the merged item it stands for (null for a supporting resource such as a Practitioner),
/// and the ids of the supporting resources it refers to.
/// </summary>
public sealed record FhirViewResource(string ResourceType, string Id, JsonObject Resource, Guid? ItemId, IReadOnlySet<string> SupportingRefs);

/// <summary>
/// The merged record as FHIR R4 resources (pure). Each merged item becomes one resource: the content
/// of the source the record shows, under the item's id. References are rewritten to the view's
/// ids: to the merged patient, to the item that holds the referenced source, or to a supporting
/// resource (Practitioner, Organization, Medication, ...) brought along; a reference that leads
/// nowhere in the record keeps only its display. Each item gets a Provenance (same id) naming every
/// source it was merged from.
/// </summary>
public sealed partial class FhirRecordView
{
    private const string SourceSystemPrefix = "urn:aggregator:connection:";
    private static readonly XNamespace Xhtml = "http://www.w3.org/1999/xhtml";

    /// <summary>The types brought along when an item refers to them; other non-fact types (Binary, Bundle, the provider's own Provenance) are not.</summary>
    private static readonly HashSet<string> Bringable = new(StringComparer.Ordinal) { "Practitioner", "PractitionerRole", "Organization", "Location", "Medication" };

    /// <summary>Whether the view brings a resource of this type along when an item refers to it (it renders its content then).</summary>
    public static bool BringsAlong(string resourceType) => Bringable.Contains(resourceType);

    private readonly Guid _patientId;
    private readonly Dictionary<SourceKey, StoredResource> _sources = [];
    private readonly Dictionary<SourceKey, (string Type, string Id)> _targets = [];
    private readonly Dictionary<(Guid ConnectionId, string Id), SourceKey> _byBareId = [];
    private readonly List<FhirViewResource> _supporting = [];
    private readonly HashSet<string> _supportingIds = new(StringComparer.Ordinal);
    private HashSet<string> _referencing = new(StringComparer.Ordinal);
    private readonly Func<Guid, string>? _documentUrl;

    private FhirRecordView(Guid patientId, Func<Guid, string>? documentUrl)
    {
        _patientId = patientId;
        _documentUrl = documentUrl;
    }

    /// <summary>The merged patient (null when no provider has sent a Patient yet).</summary>
    public FhirViewResource? Patient { get; private set; }

    /// <summary>One resource per merged item, in the items' order.</summary>
    public IReadOnlyList<FhirViewResource> Items { get; private set; } = [];

    /// <summary>
    /// Resources the items refer to that are not facts themselves (Practitioner, Organization, Location, Medication, ...);
    /// they exist only inside the view, so their fullUrl is <c>urn:uuid:{id}</c> and references to them say so.
    /// </summary>
    public IReadOnlyList<FhirViewResource> Supporting => _supporting;

    /// <summary>One Provenance per merged item (the patient's included), with the item's id.</summary>
    public IReadOnlyList<FhirViewResource> Provenances { get; private set; } = [];

    /// <param name="documentUrl">Where a document item's content is served (its attachment url is rewritten to it), by item id.</param>
    public static FhirRecordView Build(Guid patientId, IEnumerable<FhirViewItem> items, IEnumerable<StoredResource> sources, Func<Guid, string>? documentUrl = null)
    {
        ArgumentNullException.ThrowIfNull(items);
        var itemList = items.ToList();
        var view = Prepare(patientId, itemList, sources, documentUrl);
        var resources = new List<FhirViewResource>();
        var provenances = new List<FhirViewResource>();
        foreach (var item in itemList)
        {
            if (view.Render(item) is { } rendered)
            {
                if (item.Category != RecordCategory.Demographics)
                {
                    resources.Add(rendered.Resource);
                }

                provenances.Add(rendered.Provenance);
            }
        }

        view.Items = resources;
        view.Provenances = provenances;
        // The view is complete and may be kept; the sources belong to the caller.
        view._sources.Clear();
        view._targets.Clear();
        view._byBareId.Clear();
        return view;
    }

    /// <summary>
    /// A view ready to render item by item (see <see cref="Render"/>), so that a caller can write each item's resource
    /// as it goes instead of holding the whole record's: knows which item every source belongs to, renders nothing yet.
    /// </summary>
    /// <param name="items">Every item of the view (only their ids, categories and sources are read here).</param>
    public static FhirRecordView Prepare(Guid patientId, IEnumerable<FhirViewItem> items, IEnumerable<StoredResource> sources, Func<Guid, string>? documentUrl = null)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(sources);
        var view = new FhirRecordView(patientId, documentUrl);
        // Sized once: a large record's indexes are large arrays, and each growth would leave the last one behind.
        if (sources.TryGetNonEnumeratedCount(out var count))
        {
            view._sources.EnsureCapacity(count);
            view._byBareId.EnsureCapacity(count);
            view._targets.EnsureCapacity(count);
        }

        foreach (var source in sources)
        {
            view.Index(source);
        }

        foreach (var item in items)
        {
            if (!view._sources.TryGetValue(item.Shown, out var source))
            {
                continue;
            }

            var target = (source.Type, item.Category == RecordCategory.Demographics ? patientId.ToString() : item.Id.ToString());
            foreach (var member in item.Sources)
            {
                if (view._sources.TryGetValue(member, out var memberSource))
                {
                    view._targets[Key(memberSource.ConnectionId, memberSource.Type, memberSource.ResourceId)] = target;
                    view._targets[member] = target;
                }
            }
        }

        return view;
    }

    /// <summary>
    /// One item's resource and its Provenance (null when its shown source is not among the sources). Supporting
    /// resources join <see cref="Supporting"/> in the order rendered items first refer to them: render in the view's order.
    /// </summary>
    public (FhirViewResource Resource, FhirViewResource Provenance)? Render(FhirViewItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        // A source whose content could not be read again (gone from the store since the rebuild began) renders nothing.
        if (!_sources.TryGetValue(item.Shown, out var source) || !source.HasContent)
        {
            return null;
        }

        var (resource, refs) = item.Category == RecordCategory.Demographics
            ? MergedPatient(item, source)
            : Rewrite(source, source.Type, item.Id.ToString());
        if (item.Category == RecordCategory.Documents && _documentUrl is not null)
        {
            PointAttachmentsAtUs(resource, item.Id);
        }

        var entry = new FhirViewResource(source.Type, resource["id"]!.GetValue<string>(), resource, item.Id, refs);
        if (item.Category == RecordCategory.Demographics)
        {
            Patient = entry;
        }

        return (entry, ProvenanceFor(item, entry));
    }

    /// <summary>
    /// The sources whose content <see cref="Render"/> reads for the item: the one it shows, and for the patient every
    /// member (their identifiers are merged). Supporting resources it brings along are not among them: keep theirs.
    /// </summary>
    public IEnumerable<StoredResource> ContentFor(FhirViewItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        var keys = item.Category == RecordCategory.Demographics ? item.Sources.Prepend(item.Shown).Distinct() : [item.Shown];
        foreach (var key in keys)
        {
            if (_sources.TryGetValue(key, out var source))
            {
                yield return source;
            }
        }
    }

    private void Index(StoredResource source)
    {
        _sources[new SourceKey(source.ConnectionId, source.ResourceType, source.ResourceId)] = source;
        _sources[Key(source.ConnectionId, source.Type, source.ResourceId)] = source;
        _byBareId.TryAdd((source.ConnectionId, source.ResourceId), new SourceKey(source.ConnectionId, source.ResourceType, source.ResourceId));
    }

    private static SourceKey Key(Guid connectionId, string type, string id) => new(connectionId, type, id);

    /// <summary>The source's content under the view's id, its references rewritten, provider-specific meta left behind.</summary>
    private (JsonObject Resource, IReadOnlySet<string> SupportingRefs) Rewrite(StoredResource source, string type, string id)
    {
        var resource = source.ToNode();
        // resourceType and id first, as FHIR JSON is usually written (stored JSON comes back with its keys reordered).
        resource.Remove("resourceType");
        resource.Remove("id");
        resource.Insert(0, "resourceType", type);
        resource.Insert(1, "id", id);
        var meta = new JsonObject();
        if (source.LastUpdated is { } updated)
        {
            meta["lastUpdated"] = updated.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        }

        // The source's profiles and version ids were its claims about its copy, not about ours; its
        // security labels (confidentiality, sensitivity) and tags travel with the data.
        if (resource["meta"] is JsonObject original)
        {
            foreach (var kept in new[] { "security", "tag" })
            {
                if (original[kept] is JsonArray labels)
                {
                    meta[kept] = labels.DeepClone();
                }
            }
        }

        resource.Remove("meta");
        if (meta.Count > 0)
        {
            resource.Insert(2, "meta", meta);
        }

        // Rewriting may bring a supporting resource along, which is rewritten in turn: each keeps its own list.
        var outer = _referencing;
        _referencing = new HashSet<string>(StringComparer.Ordinal);
        RewriteReferences(resource, source);
        var refs = _referencing;
        _referencing = outer;
        NormalizeNarrative(resource);
        return (resource, refs);
    }

    /// <summary>
    /// R4 narrative is an XHTML <c>div</c> in the XHTML namespace; many servers (and DSTU2 samples) leave the
    /// namespace out. A narrative that is not well-formed XML (or declares a DTD) is dropped (it is optional; the data
    /// stays); one that is passes <see cref="NarrativeSanitizer"/>, which keeps only what the narrative rules permit,
    /// and is put in the XHTML namespace.
    /// </summary>
    private static void NormalizeNarrative(JsonObject resource)
    {
        if (resource["text"] is not JsonObject text || text["div"] is not JsonValue value || !value.TryGetValue<string>(out var div))
        {
            return;
        }

        try
        {
            // No DTDs (entity expansion); well-formed, as XHTML must be.
            if (Load(div).Name.LocalName != "div")
            {
                resource.Remove("text");
                return;
            }

            var element = Load(NarrativeSanitizer.Sanitize(div));
            if (element.Name.LocalName != "div")
            {
                resource.Remove("text");
                return;
            }

            foreach (var node in element.DescendantsAndSelf())
            {
                node.Name = Xhtml + node.Name.LocalName;
            }

            foreach (var attribute in element.DescendantsAndSelf().SelectMany(e => e.Attributes()).Where(a => a.IsNamespaceDeclaration).ToList())
            {
                attribute.Remove();
            }

            text["div"] = element.ToString(SaveOptions.DisableFormatting);
        }
        catch (XmlException)
        {
            resource.Remove("text");
        }
    }

    private static XElement Load(string markup)
    {
        using var reader = XmlReader.Create(new StringReader(markup), new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
        return XElement.Load(reader);
    }

    private (JsonObject Resource, IReadOnlySet<string> SupportingRefs) MergedPatient(FhirViewItem item, StoredResource shown)
    {
        var (patient, refs) = Rewrite(shown, "Patient", _patientId.ToString());
        patient.Remove("link");
        var identifiers = new JsonArray();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in item.Sources.Prepend(item.Shown))
        {
            if (!_sources.TryGetValue(member, out var source) || !source.HasContent)
            {
                continue;
            }

            foreach (var identifier in source.Parse().Arr("identifier"))
            {
                if (seen.Add($"{identifier.Str("system")}|{identifier.Str("value")}"))
                {
                    identifiers.Add(JsonNode.Parse(identifier.GetRawText()));
                }
            }
        }

        if (identifiers.Count > 0)
        {
            patient["identifier"] = identifiers;
        }

        return (patient, refs);
    }

    private void RewriteReferences(JsonNode? node, StoredResource from)
    {
        switch (node)
        {
            case JsonObject obj:
                if (obj["reference"] is JsonValue value && value.TryGetValue<string>(out var reference))
                {
                    RewriteReference(obj, reference, from);
                }

                foreach (var (name, child) in obj.ToList())
                {
                    if (name != "reference" && name != "contained")
                    {
                        RewriteReferences(child, from);
                    }
                }

                if (obj["contained"] is JsonArray contained)
                {
                    foreach (var inner in contained)
                    {
                        RewriteReferences(inner, from);
                    }
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    RewriteReferences(child, from);
                }

                break;
        }
    }

    private void RewriteReference(JsonObject reference, string value, StoredResource from)
    {
        if (value.StartsWith('#'))
        {
            return;
        }

        if (Resolve(value, from) is { } target)
        {
            // Supporting resources live only inside the view (they are not served on their own): referenced by their urn:uuid fullUrl.
            var supporting = _supportingIds.Contains(target.Id);
            if (supporting)
            {
                _referencing.Add(target.Id);
            }

            reference["reference"] = supporting ? "urn:uuid:" + target.Id : $"{target.Type}/{target.Id}";
            return;
        }

        // Not part of this record (never synced, or outside the patient's compartment): say what it was, link nowhere.
        reference.Remove("reference");
        if (reference.Count == 0 || (reference.Count == 1 && reference.ContainsKey("type")))
        {
            reference["display"] = $"{ParseReference(value)?.Type ?? "Resource"} at {from.Provider} (not in this record)";
        }
    }

    private (string Type, string Id)? Resolve(string reference, StoredResource from)
    {
        SourceKey key;
        if (reference.StartsWith("urn:uuid:", StringComparison.OrdinalIgnoreCase))
        {
            if (!_byBareId.TryGetValue((from.ConnectionId, reference["urn:uuid:".Length..]), out key))
            {
                return null;
            }
        }
        else if (ParseReference(reference) is { } parsed)
        {
            key = Key(from.ConnectionId, parsed.Type, parsed.Id);
        }
        else
        {
            return null;
        }

        // The connection's own Patient is the merged patient; another Patient (a relative, say) is not in this record.
        if (_sources.TryGetValue(key, out var patient) && patient.Type == "Patient")
        {
            return ("Patient", _patientId.ToString());
        }

        if (_targets.TryGetValue(key, out var target))
        {
            return target;
        }

        if (_sources.TryGetValue(key, out var supporting) && Bringable.Contains(supporting.Type))
        {
            return Include(supporting);
        }

        return null;
    }

    /// <summary>Brings a supporting resource into the view once, under an id derived from its source.</summary>
    private (string Type, string Id) Include(StoredResource source)
    {
        var type = source.Type;
        var key = Key(source.ConnectionId, type, source.ResourceId);
        var id = StableId($"{source.ConnectionId}|{type}|{source.ResourceId}");
        _targets[key] = (type, id);
        _targets[new SourceKey(source.ConnectionId, source.ResourceType, source.ResourceId)] = (type, id);
        _supportingIds.Add(id);
        var (resource, refs) = Rewrite(source, type, id);
        _supporting.Add(new FhirViewResource(type, id, resource, null, refs));
        return (type, id);
    }

    private void PointAttachmentsAtUs(JsonObject document, Guid itemId)
    {
        if (document["content"] is not JsonArray content)
        {
            return;
        }

        // Our content endpoint serves the document's first attachment (inline data, or the Binary fetched at sync): only that one points at it.
        var first = content.Select(c => c?["attachment"]).OfType<JsonObject>().FirstOrDefault();
        if (first is not null && first["url"] is not null && first["data"] is null)
        {
            first["url"] = _documentUrl!(itemId);
        }
    }

    private FhirViewResource ProvenanceFor(FhirViewItem item, FhirViewResource target)
    {
        var agents = new JsonArray
        {
            new JsonObject
            {
                ["type"] = Coded("http://terminology.hl7.org/CodeSystem/provenance-participant-type", "assembler", "Assembler"),
                ["who"] = new JsonObject { ["display"] = "Aggregator" },
            },
        };
        var entities = new JsonArray();
        var providers = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in item.Sources)
        {
            var source = _sources.GetValueOrDefault(member);
            var provider = source?.Provider ?? "unknown provider";
            if (providers.Add(provider))
            {
                agents.Add(new JsonObject
                {
                    ["type"] = Coded("http://terminology.hl7.org/CodeSystem/provenance-participant-type", "custodian", "Custodian"),
                    ["who"] = new JsonObject { ["display"] = provider },
                });
            }

            entities.Add(new JsonObject
            {
                ["role"] = "source",
                ["what"] = new JsonObject
                {
                    ["type"] = member.ResourceType,
                    ["identifier"] = new JsonObject
                    {
                        ["system"] = SourceSystemPrefix + member.ConnectionId,
                        ["value"] = $"{member.ResourceType}/{member.ResourceId}",
                    },
                    ["display"] = source?.LastUpdated is { } updated
                        ? $"{member.ResourceType}/{member.ResourceId} at {provider}, last updated {updated.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}"
                        : $"{member.ResourceType}/{member.ResourceId} at {provider}",
                },
            });
        }

        var provenance = new JsonObject
        {
            ["resourceType"] = "Provenance",
            ["id"] = item.Id.ToString(),
            ["target"] = new JsonArray { new JsonObject { ["reference"] = $"{target.ResourceType}/{target.Id}" } },
            ["recorded"] = item.UpdatedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
        };
        if (item.MergedBy is { } rule)
        {
            provenance["activity"] = new JsonObject { ["text"] = $"Merged from {item.Sources.Count} source resources by {rule}" };
        }

        provenance["agent"] = agents;
        provenance["entity"] = entities;
        return new FhirViewResource("Provenance", item.Id.ToString(), provenance, item.Id, new HashSet<string>());
    }

    private static JsonObject Coded(string system, string code, string display) =>
        new() { ["coding"] = new JsonArray { new JsonObject { ["system"] = system, ["code"] = code, ["display"] = display } } };

    private static (string Type, string Id)? ParseReference(string reference)
    {
        var match = ReferencePattern().Match(reference);
        return match.Success ? (match.Groups["type"].Value, match.Groups["id"].Value) : null;
    }

    /// <summary>A GUID-shaped id that is the same every time for the same source resource.</summary>
    private static string StableId(string seed) => new Guid(SHA256.HashData(Encoding.UTF8.GetBytes(seed)).AsSpan(0, 16)).ToString();

    /// <summary><c>Type/id</c>, optionally after a base url and before <c>/_history/v</c>.</summary>
    [GeneratedRegex(@"(?:^|/)(?<type>[A-Z][A-Za-z]+)/(?<id>[A-Za-z0-9\-\.]{1,64})(?:/_history/[^/]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex ReferencePattern();
}
