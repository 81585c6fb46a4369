using System.Text.Json;
using Aggregator.Domain.Records;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Api.Records;

/// <summary>Filters over the pre-rendered item JSON, shared by every record read.</summary>
public static class RecordItemFilters
{
    /// <summary>Items that carry the code (<c>code</c>, or <c>system|code</c>) among their codes (jsonb containment).</summary>
    public static IQueryable<RecordItem> WithCode(this IQueryable<RecordItem> items, string code)
    {
        ArgumentNullException.ThrowIfNull(code);
        var parts = code.Split('|', 2);
        var containment = parts.Length == 2
            ? JsonSerializer.Serialize(new { codes = new[] { new { system = parts[0], code = parts[1] } } })
            : JsonSerializer.Serialize(new { codes = new[] { new { code } } });
        return items.Where(i => EF.Functions.JsonContains(i.Display, containment));
    }

    /// <summary>Items whose display text or codes (any source's) contain every word of <paramref name="q"/>, case-insensitively.</summary>
    public static IQueryable<RecordItem> WithText(this IQueryable<RecordItem> items, string? q)
    {
        ArgumentNullException.ThrowIfNull(items);
        foreach (var word in (q ?? "").ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Take(8))
        {
            items = items.Where(i => i.SearchText.Contains(word));
        }

        return items;
    }
}
