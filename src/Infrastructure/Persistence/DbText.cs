namespace Aggregator.Infrastructure.Persistence;

/// <summary>Database functions over text that queries may call (translated to SQL; never run in .NET).</summary>
public static class DbText
{
    /// <summary>
    /// A text column's UTF-8 bytes as the database holds them (PostgreSQL's <c>textsend</c>, to <c>bytea</c>): JSON read this
    /// way goes to the response as it is, without decoding into a string and encoding back (the pages of the record's
    /// pre-rendered items).
    /// </summary>
    public static byte[] Utf8(string text) =>
        throw new InvalidOperationException($"{nameof(DbText)}.{nameof(Utf8)} runs in the database: use it in a query.");
}
