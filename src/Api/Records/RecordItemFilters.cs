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
}
