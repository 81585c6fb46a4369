using Aggregator.Domain.Records;

namespace Aggregator.Api.Records;

/// <summary>Filters over the read model's typed columns, shared by every record read.</summary>
public static class RecordItemFilters
{
    /// <summary>Items that carry the code (<c>code</c>, or <c>system|code</c>) among their codings.</summary>
    public static IQueryable<RecordItem> WithCode(this IQueryable<RecordItem> items, string code)
    {
        ArgumentNullException.ThrowIfNull(code);
        return items.Where(i => i.Codes.Contains(code));
    }

    /// <summary>Items that one of the connection's resources states.</summary>
    public static IQueryable<RecordItem> FromConnection(this IQueryable<RecordItem> items, Guid connectionId) =>
        items.Where(i => i.SourceRows.Any(s => s.ConnectionId == connectionId));

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
