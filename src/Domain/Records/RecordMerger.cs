using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Aggregator.Domain.Records;

/// <summary>One fact of the merged record: every source item that states it, the newest one shown.</summary>
public sealed record MergedItem(string Category, string ItemKey, ClinicalItem Winner, IReadOnlyList<ClinicalItem> Members, string? MergedBy)
{
    public bool Retracted => Winner.Retracted;

    public DateTimeOffset? EffectiveAt => Winner.Time?.At;

    /// <summary>
    /// What a text search matches, lower-cased: every source's display text and every code with its display,
    /// so that a patient finds a fact by the words any of their providers used.
    /// </summary>
    public string SearchText()
    {
        var words = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var member in Members)
        {
            AddText(words, member.Fields["display"]?.GetValue<string>());
            AddText(words, member.Text);
            foreach (var code in member.Codes)
            {
                AddText(words, code.Code);
                AddText(words, code.Display);
            }
        }

        return string.Join(' ', words);
    }

    private static void AddText(SortedSet<string> words, string? text)
    {
        if (!string.IsNullOrWhiteSpace(text))
        {
            words.Add(text.Trim().ToLowerInvariant());
        }
    }

    /// <summary>The item as the API shows it (without its id, which storage assigns).</summary>
    public JsonObject Render()
    {
        var item = (JsonObject)Winner.Fields.DeepClone();
        item["category"] = Category;
        item["retracted"] = Retracted;
        item["mergedBy"] = MergedBy;
        item["sources"] = new JsonArray([.. Members.Select(m => (JsonNode)new JsonObject
        {
            ["connectionId"] = m.Source.ConnectionId.ToString(),
            ["provider"] = m.Source.Provider,
            ["resourceType"] = m.Source.ResourceType,
            ["resourceId"] = m.Source.ResourceId,
            ["lastUpdated"] = m.Source.LastUpdated?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
            // The source whose content the item shows (the most recently updated).
            ["shown"] = m.Source == Winner.Source,
            // What this source says, so that disagreement stays visible.
            ["display"] = m.Fields["display"]?.DeepClone(),
            ["status"] = m.Status,
            ["value"] = m.Fields["value"]?.DeepClone(),
            ["effective"] = m.Fields["effective"]?.DeepClone(),
        })]);
        return item;
    }
}

/// <summary>
/// De-duplicates a patient's clinical items into one merged record. Pure and deterministic, and
/// linear in the number of items: items are linked through keys they share, within a category —
/// a shared identifier first; then the same coded concept (system and code, or the same display
/// where uncoded) at the same clinically meaningful moment, and for measurements the same value
/// after unit normalisation within the precision each source reported. Where sources disagree,
/// the most recently updated one is shown and every source stays listed.
/// </summary>
public static class RecordMerger
{
    public const string ByIdentifier = "identifier";
    public const string ByCodeAndTime = "code+time";
    public const string ByCodeTimeAndValue = "code+time+value";
    public const string ByDisplayAndTime = "display+time";
    public const string ByPatient = "same-patient";

    /// <summary>Categories whose facts are dated by day (onset, authored, administered); the rest by instant where given.</summary>
    private static readonly HashSet<string> DatedByDay = new(StringComparer.Ordinal)
    {
        RecordCategory.Conditions, RecordCategory.Medications, RecordCategory.Immunizations, RecordCategory.Allergies,
        RecordCategory.Goals, RecordCategory.CarePlans,
    };

    public static IReadOnlyList<MergedItem> Merge(IEnumerable<ClinicalItem> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var merged = new List<MergedItem>();
        foreach (var category in items.GroupBy(i => i.Category).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var ordered = category.OrderBy(i => i.Source.ConnectionId).ThenBy(i => i.Source.ResourceType, StringComparer.Ordinal)
                .ThenBy(i => i.Source.ResourceId, StringComparer.Ordinal).ToList();
            merged.AddRange(category.Key == RecordCategory.Demographics ? [MergePatient(ordered)] : MergeCategory(category.Key, ordered));
        }

        return merged;
    }

    private static List<MergedItem> MergeCategory(string category, List<ClinicalItem> items)
    {
        var sets = new DisjointSets(items.Count);
        var rules = new string?[items.Count];
        var byKey = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < items.Count; i++)
        {
            foreach (var identifier in items[i].Identifiers)
            {
                Link("id:" + identifier, i, ByIdentifier, requireMatch: false);
            }
        }

        for (var i = 0; i < items.Count; i++)
        {
            foreach (var (key, rule) in ConceptKeys(category, items[i]))
            {
                Link(key, i, rule, requireMatch: true);
            }
        }

        void Link(string key, int item, string rule, bool requireMatch)
        {
            if (!byKey.TryGetValue(key, out var other))
            {
                byKey[key] = item;
                return;
            }

            if (sets.Find(other) == sets.Find(item) || (requireMatch && !SameFact(category, items[other], items[item])))
            {
                return;
            }

            var earlier = rules[sets.Find(other)] ?? rules[sets.Find(item)];
            var root = sets.Union(other, item);
            rules[root] = earlier ?? rule;
        }

        var clusters = Enumerable.Range(0, items.Count).GroupBy(sets.Find);
        var result = new List<MergedItem>();
        var usedKeys = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var cluster in clusters.OrderBy(c => c.Min()))
        {
            var members = cluster.Select(i => items[i]).ToList();
            var rule = members.Count > 1 ? rules[cluster.Key] : null;
            var winner = Newest(members);
            var key = ItemKey(category, winner);
            usedKeys[key] = usedKeys.GetValueOrDefault(key) + 1;
            if (usedKeys[key] > 1)
            {
                key += "#" + usedKeys[key].ToString(CultureInfo.InvariantCulture);
            }

            result.Add(new MergedItem(category, key, winner, members, rule));
        }

        return result;
    }

    /// <summary>The keys through which an item may meet the same fact from another source.</summary>
    private static IEnumerable<(string Key, string Rule)> ConceptKeys(string category, ClinicalItem item)
    {
        var day = item.Time?.DateKey ?? "undated";
        var measured = item.Values.Count > 0;
        foreach (var code in item.Codes)
        {
            yield return ($"c:{code.System}|{code.Code}@{day}", measured ? ByCodeTimeAndValue : ByCodeAndTime);
        }

        var text = NormalizeText(item.Text);
        if (text is not null && (item.Codes.Count == 0 || category == RecordCategory.Conditions))
        {
            // Uncoded facts meet by their display; conditions also do, since one provider codes them in SNOMED CT and another in ICD-10-CM.
            yield return ($"t:{text}@{day}", ByDisplayAndTime);
        }
    }

    /// <summary>Two items linked by a key are the same fact only if their moments and measured values agree.</summary>
    private static bool SameFact(string category, ClinicalItem a, ClinicalItem b)
    {
        if (a.Time is { } ta && b.Time is { } tb)
        {
            var sameTime = DatedByDay.Contains(category) ? ta.DateKey == tb.DateKey : ta.SameMoment(tb);
            if (!sameTime)
            {
                return false;
            }
        }
        else if (a.Time is not null || b.Time is not null)
        {
            return false;
        }

        if (a.Values.Count != b.Values.Count)
        {
            return false;
        }

        foreach (var (part, value) in a.Values)
        {
            var match = b.Values.FirstOrDefault(v => v.Part == part);
            if (match.Part is null || !value.Matches(match.Value))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>All of a patient's Patient resources are one person: names, addresses, phones and identifiers from every source; conflicts visible.</summary>
    private static MergedItem MergePatient(List<ClinicalItem> patients)
    {
        var winner = Newest(patients);
        var fields = (JsonObject)winner.Fields.DeepClone();
        foreach (var list in new[] { "names", "addresses", "phones", "identifiers" })
        {
            fields[list] = new JsonArray([.. patients.SelectMany(p => p.Fields[list] is JsonArray values ? values.Select(v => v?.GetValue<string>()) : [])
                .Where(v => !string.IsNullOrWhiteSpace(v)).Distinct(StringComparer.OrdinalIgnoreCase).Select(v => (JsonNode?)v)]);
        }

        var conflicts = new JsonObject();
        foreach (var single in new[] { "birthDate", "gender" })
        {
            var values = patients.Select(p => p.Fields[single]?.GetValue<string>()).Where(v => v is not null).Distinct(StringComparer.Ordinal).ToList();
            if (values.Count > 1)
            {
                conflicts[single] = new JsonArray([.. values.Select(v => (JsonNode?)v)]);
            }
        }

        fields["conflicts"] = conflicts;
        var person = new ClinicalItem { Category = RecordCategory.Demographics, Source = winner.Source, Fields = fields, Status = winner.Status };
        return new MergedItem(RecordCategory.Demographics, "patient", person, patients, patients.Count > 1 ? ByPatient : null);
    }

    private static ClinicalItem Newest(List<ClinicalItem> members) =>
        members.OrderByDescending(m => m.Source.LastUpdated ?? DateTimeOffset.MinValue)
            .ThenBy(m => m.Source.ConnectionId)
            .ThenBy(m => m.Source.ResourceType, StringComparer.Ordinal)
            .ThenBy(m => m.Source.ResourceId, StringComparer.Ordinal)
            .First();

    /// <summary>A stable key for the fact: its main code (or display), its moment, and for measurements its value.</summary>
    private static string ItemKey(string category, ClinicalItem winner)
    {
        var concept = winner.Codes.Count > 0 ? ClinicalNormalizer.PrimaryCode(winner.Codes) : null;
        var what = concept is not null ? $"{concept.System}|{concept.Code}" : "t:" + (NormalizeText(winner.Text) ?? $"{winner.Source.ResourceType}/{winner.Source.ResourceId}");
        var when = winner.Time is { } t ? (t.HasTime && !DatedByDay.Contains(category) ? t.At.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) : t.DateKey) : "undated";
        var value = string.Join(",", winner.Values.Select(v => $"{v.Part}={v.Value.Value.ToString("G6", CultureInfo.InvariantCulture)}{v.Value.Unit}"));
        var key = $"{category}:{what}@{when}" + (value.Length > 0 ? "=" + value : "");
        return key.Length <= 400 ? key : $"{category}:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))}";
    }

    private static string? NormalizeText(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var builder = new StringBuilder(text.Length);
        foreach (var c in text.Trim().ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(c))
            {
                builder.Append(c);
            }
            else if (builder.Length > 0 && builder[^1] != ' ')
            {
                builder.Append(' ');
            }
        }

        return builder.ToString().TrimEnd();
    }

    /// <summary>Union-find over item indexes, with path halving: near-constant time per operation.</summary>
    private sealed class DisjointSets
    {
        private readonly int[] _parent;

        public DisjointSets(int count) => _parent = Enumerable.Range(0, count).ToArray();

        public int Find(int item)
        {
            while (_parent[item] != item)
            {
                _parent[item] = _parent[_parent[item]];
                item = _parent[item];
            }

            return item;
        }

        /// <summary>Joins two sets; the smaller root wins, so results do not depend on link order.</summary>
        public int Union(int a, int b)
        {
            var (ra, rb) = (Find(a), Find(b));
            var root = Math.Min(ra, rb);
            _parent[Math.Max(ra, rb)] = root;
            return root;
        }
    }
}
