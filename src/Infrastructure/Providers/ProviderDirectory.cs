using Aggregator.Domain.Providers;
using Aggregator.Infrastructure.Paging;
using Aggregator.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Infrastructure.Providers;

public sealed record ProviderPage(IReadOnlyList<Provider> Items, string? NextCursor);

/// <summary>The directory of provider endpoints a patient can connect to (shared by all tenants).</summary>
public sealed class ProviderDirectory(AggregatorDbContext db, CursorCodec cursors)
{
    private const string Listing = "providers";

    /// <summary>Every word of <paramref name="query"/> must appear in the name, brand, location or slug.</summary>
    public async Task<ProviderPage> SearchAsync(string? query, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var take = CursorCodec.ClampLimit(limit);
        var providers = db.Providers.AsNoTracking().Where(p => p.Enabled);
        foreach (var word in (query ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Take(8))
        {
            var pattern = "%" + EscapeLike(word) + "%";
            providers = providers.Where(p =>
                EF.Functions.ILike(p.Name, pattern, "\\") || EF.Functions.ILike(p.Brand, pattern, "\\")
                || EF.Functions.ILike(p.Location ?? "", pattern, "\\") || EF.Functions.ILike(p.Slug, pattern, "\\"));
        }

        var listing = $"{Listing}:{query}";
        if (!string.IsNullOrEmpty(cursor))
        {
            var after = cursors.Decode<ProviderPosition>(listing, cursor);
            providers = providers.Where(p => p.Name.CompareTo(after.Name) > 0 || (p.Name == after.Name && p.Id.CompareTo(after.Id) > 0));
        }

        var rows = await providers.OrderBy(p => p.Name).ThenBy(p => p.Id).Take(take + 1).ToListAsync(cancellationToken);
        var next = rows.Count > take ? cursors.Encode(listing, new ProviderPosition(rows[take - 1].Name, rows[take - 1].Id)) : null;
        return new ProviderPage(rows.Take(take).ToList(), next);
    }

    public Task<Provider?> FindAsync(Guid id, CancellationToken cancellationToken) =>
        db.Providers.AsNoTracking().SingleOrDefaultAsync(p => p.Id == id && p.Enabled, cancellationToken);

    private static string EscapeLike(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);

    private sealed record ProviderPosition(string Name, Guid Id);
}
