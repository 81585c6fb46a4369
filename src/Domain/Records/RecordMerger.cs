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
        var item = Winner.Fields;
        item["category"] = Category;
        item["retracted"] = Retracted;
        item["mergedBy"] = MergedBy;
        item["sources"] = new JsonArray([.. Members.Select(SourceOf)]);
        return item;
    }

    /// <summary>One source of the item as the API lists it.</summary>
    private JsonNode SourceOf(ClinicalItem member)
    {
        var fields = member.Fields;
        return new JsonObject
        {
            ["connectionId"] = member.Source.ConnectionId.ToString(),
            ["provider"] = member.Source.Provider,
            ["resourceType"] = member.Source.ResourceType,
            ["resourceId"] = member.Source.ResourceId,
            ["lastUpdated"] = member.Source.LastUpdated?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
            // The source whose content the item shows (the most recently updated).
            ["shown"] = member.Source == Winner.Source,
            // What this source says, so that disagreement stays visible.
            ["display"] = fields["display"]?.DeepClone(),
            ["status"] = member.Status,
            ["value"] = fields["value"]?.DeepClone(),
            ["effective"] = fields["effective"]?.DeepClone(),
        };
    }
}

/// <summary>
/// De-duplicates a patient's clinical items into one merged record. Pure and deterministic, and
/// close to linear in the number of items (pairs are judged only within a concept and a day):
/// within a category, a shared identifier first; then the same standard code (or the same display
/// where there is none) on the same day, judged on the moment, the end, qualifiers and, for
/// measurements, the value after unit normalisation within the precision each source reported.
/// Alike facts pair one to one across sources, closest first; two items of one source never merge
/// (an identifier one source gives to two of its items names a group). Where sources disagree, the
/// most recently updated one is shown and every source stays listed.
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
        var members = Enumerable.Range(0, items.Count).Select(i => new List<int> { i }).ToArray();

        // A shared identifier is the same record, whatever the codes say, unless one source gives it to several of its
        // records (then it names a group: a claim group, a panel), the two are not of one kind, or their days disagree.
        var grouping = items.SelectMany(i => i.Identifiers.Distinct(StringComparer.Ordinal).Select(id => (i.Source.ConnectionId, id)))
            .GroupBy(x => x).Where(g => g.Count() > 1).Select(g => g.Key.id).ToHashSet(StringComparer.Ordinal);
        var byIdentifier = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < items.Count; i++)
        {
            foreach (var identifier in items[i].Identifiers.Where(id => !grouping.Contains(id)))
            {
                if (!byIdentifier.TryAdd(identifier, i) && byIdentifier[identifier] is var other
                    && Comparable(items[other], items[i]) && SameDayIfDated(items[other], items[i]))
                {
                    Join(other, i, ByIdentifier);
                }
            }
        }

        // Otherwise candidates meet through a key they share (a concept at an instant, or on a day); each candidate pair
        // is judged on everything that tells facts apart, and the pairs that hold are joined closest first, at most one
        // item per connection in each merged item (two alike facts of one source pair one to one with another source's),
        // and only where every member of the one is the same fact as every member of the other.
        var blocks = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var ruleOf = new Dictionary<(int, string), string>();
        for (var i = 0; i < items.Count; i++)
        {
            foreach (var (key, rule) in ConceptKeys(category, items[i]))
            {
                if (!blocks.TryGetValue(key, out var block))
                {
                    blocks[key] = block = [];
                }

                block.Add(i);
                ruleOf.TryAdd((i, key), rule);
            }
        }

        var datedByDay = DatedByDay.Contains(category);
        var candidates = new Dictionary<(int A, int B), string>();
        foreach (var (key, block) in blocks)
        {
            // A day's block of timed facts only serves to meet facts dated by day: timed pairs meet in their instant's block.
            var everyPair = datedByDay || !key.StartsWith("d:", StringComparison.Ordinal);
            foreach (var x in everyPair ? block : block.Where(i => items[i].Time is not { HasTime: true }))
            {
                foreach (var y in block)
                {
                    var (a, b) = (Math.Min(x, y), Math.Max(x, y));
                    if (a != b && (!everyPair || x < y) && items[a].Source.ConnectionId != items[b].Source.ConnectionId && !candidates.ContainsKey((a, b))
                        && Comparable(items[a], items[b]) && SameFact(category, items[a], items[b]))
                    {
                        candidates[(a, b)] = ruleOf[(x, key)];
                    }
                }
            }
        }

        foreach (var ((a, b), rule) in candidates.OrderBy(c => TimeDistance(items[c.Key.A], items[c.Key.B]))
                     .ThenBy(c => ValueDistance(items[c.Key.A], items[c.Key.B])).ThenBy(c => c.Key.A).ThenBy(c => c.Key.B))
        {
            var (ra, rb) = (sets.Find(a), sets.Find(b));
            if (ra != rb && !members[ra].Any(x => members[rb].Any(y => items[x].Source.ConnectionId == items[y].Source.ConnectionId))
                && members[ra].All(x => members[rb].All(y => SameFact(category, items[x], items[y]))))
            {
                Join(a, b, rule);
            }
        }

        void Join(int a, int b, string rule)
        {
            var (ra, rb) = (sets.Find(a), sets.Find(b));
            if (ra == rb)
            {
                return;
            }

            var earlier = rules[ra] ?? rules[rb];
            var root = sets.Union(a, b);
            members[root] = [.. members[ra], .. members[rb]];
            rules[root] = earlier ?? rule;
        }

        var clusters = Enumerable.Range(0, items.Count).GroupBy(sets.Find);
        var result = new List<MergedItem>();
        var usedKeys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var cluster in clusters.OrderBy(c => c.Min()))
        {
            var clustered = cluster.Select(i => items[i]).ToList();
            var rule = clustered.Count > 1 ? rules[cluster.Key] : null;
            var winner = Newest(clustered);
            var key = ItemKey(category, winner);
            if (!usedKeys.Add(key))
            {
                // Alike facts (one source's two visits of one type at one moment): told apart by a source of their own,
                // so that an item keeps its key when another alike one comes or goes.
                var first = items[cluster.Min()].Source;
                key = Capped($"{key}#{first.ConnectionId:N}/{first.ResourceType}/{first.ResourceId}", category);
                usedKeys.Add(key);
            }

            result.Add(new MergedItem(category, key, winner, clustered, rule));
        }

        return result;
    }

    /// <summary>
    /// The keys through which an item may meet the same fact from another source, per code (and display): a timed fact
    /// at its instant (<c>i:</c>) and on each day it falls on (<c>d:</c>, where it meets facts dated by day only); a
    /// fact dated by day, or in a category dated by day, on its days. Standard codes meet across providers; a local
    /// code meets only items of the same provider.
    /// </summary>
    private static IEnumerable<(string Key, string Rule)> ConceptKeys(string category, ClinicalItem item)
    {
        var moments = new List<string>();
        if (item.Time is not { } time)
        {
            moments.Add("d:undated");
        }
        else
        {
            if (time.HasTime && !DatedByDay.Contains(category))
            {
                moments.Add("i:" + time.At.UtcTicks.ToString(CultureInfo.InvariantCulture));
            }

            moments.AddRange(time.DayKeys.Select(day => "d:" + day));
        }

        var measured = item.Values.Count > 0;
        var standard = false;
        foreach (var code in item.Codes)
        {
            var concept = IsStandardSystem(code.System) ? $"c:{code.System}|{code.Code}" : $"l:{item.Source.Provider}|{code.System}|{code.Code}";
            standard |= IsStandardSystem(code.System);
            foreach (var moment in moments)
            {
                yield return ($"{moment}@{concept}", measured ? ByCodeTimeAndValue : ByCodeAndTime);
            }
        }

        var text = NormalizeText(item.Text);
        if (text is not null && (!standard || category == RecordCategory.Conditions))
        {
            // Facts without a standard code meet by their display; conditions also do, since one provider codes them in
            // SNOMED CT and another in ICD-10-CM.
            foreach (var moment in moments)
            {
                yield return ($"{moment}@t:{text}", ByDisplayAndTime);
            }
        }
    }

    private static bool SameDayIfDated(ClinicalItem a, ClinicalItem b) => a.Time is not { } ta || b.Time is not { } tb || ta.SameDay(tb);

    /// <summary>
    /// Code systems whose codes mean the same wherever they are written: the big terminologies and HL7's own. Any
    /// other system (an <c>urn:oid:</c> of one organisation, a provider's own url) is local to the provider that uses it.
    /// </summary>
    public static bool IsStandardSystem(string? system) => system is not null && (StandardSystems.Contains(system)
        || system.StartsWith("http://terminology.hl7.org/CodeSystem/", StringComparison.Ordinal)
        || system.StartsWith("http://hl7.org/fhir/", StringComparison.Ordinal));

    private static readonly HashSet<string> StandardSystems = new(StringComparer.Ordinal)
    {
        "http://loinc.org", "http://snomed.info/sct", "http://www.nlm.nih.gov/research/umls/rxnorm", "http://hl7.org/fhir/sid/cvx",
        "http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-9-cm", "http://hl7.org/fhir/sid/ndc", "http://www.ama-assn.org/go/cpt",
        "http://unitsofmeasure.org", "http://nucc.org/provider-taxonomy",
    };

    /// <summary>
    /// Two items that share a key are the same fact only if nothing tells them apart: their moments (instants in
    /// UTC; days for facts dated by day, or where one side is a date), their ends, their qualifiers (body site,
    /// reason) where both state them, and their measured values within the precision each source reported.
    /// Optional details one side leaves out never keep two items apart.
    /// </summary>
    private static bool SameFact(string category, ClinicalItem a, ClinicalItem b)
    {
        if (a.Time is { } ta && b.Time is { } tb)
        {
            var sameTime = DatedByDay.Contains(category) ? ta.SameDay(tb) : ta.SameMoment(tb);
            if (!sameTime)
            {
                return false;
            }
        }
        else if (a.Time is not null || b.Time is not null)
        {
            return false;
        }

        if (a.End is { } ea && b.End is { } eb && !ea.SameMoment(eb))
        {
            return false;
        }

        foreach (var (aspect, values) in a.Qualifiers)
        {
            if (b.Qualifiers.TryGetValue(aspect, out var others) && !values.Intersect(others, StringComparer.Ordinal).Any())
            {
                return false;
            }
        }

        foreach (var (part, value) in a.Results)
        {
            if (b.Results.FirstOrDefault(r => r.Part == part) is { Part: not null } other && !value.Matches(other.Value))
            {
                return false;
            }
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

    /// <summary>
    /// Only resources of one type state one fact (a claim is not its explanation of benefit), except that one
    /// provider may write as a request the medication another writes as a statement, dispense or administration.
    /// </summary>
    private static bool Comparable(ClinicalItem a, ClinicalItem b) =>
        a.Source.ResourceType == b.Source.ResourceType
        || (a.Source.ResourceType.StartsWith("Medication", StringComparison.Ordinal) && b.Source.ResourceType.StartsWith("Medication", StringComparison.Ordinal));

    private static long TimeDistance(ClinicalItem a, ClinicalItem b) =>
        a.Time is { HasTime: true } ta && b.Time is { HasTime: true } tb ? Math.Abs((ta.At - tb.At).Ticks) : 0;

    private static double ValueDistance(ClinicalItem a, ClinicalItem b) => Distance(a.Values, b.Values) + Distance(a.Results, b.Results);

    private static double Distance(IReadOnlyList<(string Part, NormalizedValue Value)> a, IReadOnlyList<(string Part, NormalizedValue Value)> b) =>
        a.Sum(v => b.FirstOrDefault(o => o.Part == v.Part) is { Part: not null } o && o.Value.Unit == v.Value.Unit ? v.Value.Distance(o.Value) : 0);

    /// <summary>All of a patient's Patient resources are one person: names, addresses, phones and identifiers from every source; conflicts visible.</summary>
    private static MergedItem MergePatient(List<ClinicalItem> patients)
    {
        var winner = Newest(patients);
        var fields = winner.Fields;
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
        return Capped($"{category}:{what}@{when}" + (value.Length > 0 ? "=" + value : ""), category);
    }

    /// <summary>Keys are stored in an indexed column: a long one is replaced by its hash.</summary>
    private static string Capped(string key, string category) =>
        key.Length <= 400 ? key : $"{category}:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))}";

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
